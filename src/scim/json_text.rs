//! An answer's JSON text in parts: text written up front, and long runs (a large group's
//! members) written only as the client reads the answer, a piece at a time. Why: a group of the
//! whole directory answers megabytes (19 MB at 100,000 members); written whole before sending,
//! every such answer in flight held all of it, so memory grew with the group and with the
//! requests reading it. The length is known before anything is sent (`Content-Length`), and
//! writing a piece cannot fail: what a deferred part writes is in memory already.

use std::collections::VecDeque;
use std::fmt;

/// Text up to this long is moved to take a head rather than sent as a part after it.
const SHORT: usize = 16 * 1024;

/// Text written later, a piece at a time.
pub trait Deferred: Send {
    /// How many bytes it writes, all told.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends its next piece, of about `budget` bytes (at least one item of what it lists);
    /// `false` once all of it is written.
    fn write_next(&mut self, out: &mut String, budget: usize) -> bool;
}

/// One done part of a [`JsonText`].
enum Part {
    Text(String),
    Deferred(Box<dyn Deferred>),
}

/// JSON text as parts, in order: those done, then the text being written.
#[derive(Default)]
pub struct JsonText {
    parts: VecDeque<Part>,
    tail: String,
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "JsonText({} parts, {} bytes)",
            self.parts.len() + 1,
            self.len()
        )
    }
}

impl From<String> for JsonText {
    fn from(tail: String) -> Self {
        JsonText {
            parts: VecDeque::new(),
            tail,
        }
    }
}

impl JsonText {
    /// Empty text with room for `bytes` written up front.
    pub fn with_capacity(bytes: usize) -> Self {
        String::with_capacity(bytes).into()
    }

    /// The text at the end, to append to.
    pub fn text_mut(&mut self) -> &mut String {
        &mut self.tail
    }

    pub fn push_str(&mut self, s: &str) {
        self.tail.push_str(s);
    }

    /// Appends a part written later.
    pub fn push_deferred(&mut self, part: Box<dyn Deferred>) {
        if !self.tail.is_empty() {
            self.parts
                .push_back(Part::Text(std::mem::take(&mut self.tail)));
        }
        self.parts.push_back(Part::Deferred(part));
    }

    /// Appends `other`'s parts.
    pub fn append(&mut self, other: JsonText) {
        for part in other.parts {
            match part {
                Part::Text(text) => self.push_str(&text),
                Part::Deferred(d) => self.push_deferred(d),
            }
        }
        self.push_str(&other.tail);
    }

    /// Puts `head` in front: into short text in place (a look-up's answer stays one string), as
    /// a part of its own before long text, which is then neither moved nor copied (a page of
    /// users is 100–300 KB).
    pub fn prepend(&mut self, head: &str) {
        if self.parts.is_empty() && self.tail.len() <= SHORT {
            self.tail.reserve_exact(head.len() + 16);
            self.tail.insert_str(0, head);
        } else {
            self.parts.push_front(Part::Text(head.to_string()));
        }
    }

    /// Appends `s`, as a part of its own when the text before it is long and has no room for
    /// it: that text is not copied into a larger buffer to take it.
    pub fn end_with(&mut self, s: &str) {
        let room = self.tail.capacity() - self.tail.len();
        if self.tail.len() > SHORT && room < s.len() {
            self.parts
                .push_back(Part::Text(std::mem::take(&mut self.tail)));
        }
        self.tail.push_str(s);
    }

    /// How many bytes the whole text is.
    pub fn len(&self) -> usize {
        let parts: usize = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(text) => text.len(),
                Part::Deferred(d) => d.len(),
            })
            .sum();
        parts + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text when it is one string already.
    pub fn into_single(self) -> Result<String, JsonText> {
        if self.parts.is_empty() {
            Ok(self.tail)
        } else {
            Err(self)
        }
    }

    /// Whether a part of it is written only when sent.
    pub fn has_deferred(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Deferred(_)))
    }

    /// The next piece to send, of about `budget` bytes for a deferred part; `None` at the end.
    pub fn next_piece(&mut self, budget: usize) -> Option<String> {
        while let Some(part) = self.parts.pop_front() {
            match part {
                Part::Text(text) if text.is_empty() => {}
                Part::Text(text) => return Some(text),
                Part::Deferred(mut d) => {
                    let mut piece = String::with_capacity(budget + budget / 8);
                    if d.write_next(&mut piece, budget) {
                        self.parts.push_front(Part::Deferred(d));
                    }
                    if !piece.is_empty() {
                        return Some(piece);
                    }
                }
            }
        }
        let tail = std::mem::take(&mut self.tail);
        (!tail.is_empty()).then_some(tail)
    }

    /// All of it as one string, deferred parts written now (tests and small answers).
    pub fn into_string(mut self) -> String {
        let mut out = String::with_capacity(self.len());
        while let Some(piece) = self.next_piece(64 * 1024) {
            out.push_str(&piece);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` numbers as a JSON array, a few at a time.
    struct Numbers {
        n: usize,
        next: usize,
    }

    impl Deferred for Numbers {
        fn len(&self) -> usize {
            2 + (0..self.n).map(|i| i.to_string().len()).sum::<usize>() + self.n.saturating_sub(1)
        }

        fn write_next(&mut self, out: &mut String, budget: usize) -> bool {
            if self.next == 0 {
                out.push('[');
            }
            let start = out.len();
            while self.next < self.n && (out.len() - start < budget || self.next == 0) {
                if self.next > 0 {
                    out.push(',');
                }
                out.push_str(&self.next.to_string());
                self.next += 1;
            }
            if self.next == self.n {
                out.push(']');
                return false;
            }
            true
        }
    }

    fn numbers(n: usize) -> Box<dyn Deferred> {
        Box::new(Numbers { n, next: 0 })
    }

    #[test]
    fn parts_are_sent_in_order_in_pieces_and_their_length_is_known_up_front() {
        let mut text = JsonText::from(String::from("{\"a\":"));
        text.push_deferred(numbers(1000));
        text.push_str(",\"b\":");
        text.push_deferred(numbers(0));
        text.push_str("}");
        text.prepend("[");
        text.end_with("]");
        let expected = format!(
            "[{{\"a\":[{}],\"b\":[]}}]",
            (0..1000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(text.len(), expected.len());
        let mut pieces = Vec::new();
        while let Some(piece) = text.next_piece(100) {
            pieces.push(piece);
        }
        assert!(pieces.len() > 30, "{} pieces", pieces.len());
        assert!(pieces.iter().all(|p| p.len() < 200 && !p.is_empty()));
        assert_eq!(pieces.concat(), expected);
        assert!(text.next_piece(100).is_none());
    }

    #[test]
    fn text_without_deferred_parts_stays_one_string() {
        let mut text = JsonText::with_capacity(16);
        text.push_str("\"Resources\":[]");
        text.prepend("{");
        text.end_with("}");
        let mut other = JsonText::default();
        other.push_str(" ");
        text.append(other);
        assert_eq!(
            (!text.has_deferred())
                .then(|| text.into_string())
                .as_deref(),
            Some("{\"Resources\":[]} ")
        );
        // Long text without room gets its head and its end as parts of their own, unmoved.
        let long = "x".repeat(SHORT + 1);
        let mut text = JsonText::from(long.clone());
        let at = text.tail.as_ptr();
        text.prepend("[");
        text.end_with("]");
        assert_eq!(text.parts.len(), 2);
        assert!(matches!(&text.parts[1], Part::Text(t) if t.as_ptr() == at));
        assert!(!text.has_deferred());
        assert_eq!(text.into_string(), format!("[{long}]"));
        let mut deferred = JsonText::default();
        deferred.push_deferred(numbers(3));
        assert!(deferred.has_deferred());
        assert_eq!(deferred.into_string(), "[0,1,2]");
    }
}
