//! JSON string literals as the database quotes them (`json_quote` on SQLite, `to_json(…)::text`
//! on PostgreSQL) and lists them in one text value: found one after another without decoding
//! them, so that an answer can carry them as they are. A user's group references
//! (`group_refs`) and a group's member ids (`member_refs`) come this way.

use std::borrow::Cow;

/// A JSON string literal as the database quoted it.
pub struct Literal<'a> {
    /// With its quotes.
    pub text: &'a str,
    /// Whether it holds an escape.
    pub escaped: bool,
}

impl<'a> Literal<'a> {
    /// Its text: the inside when it holds no escape (the common case), else decoded.
    pub fn unquoted(&self) -> Cow<'a, str> {
        if self.escaped {
            Cow::Owned(serde_json::from_str::<String>(self.text).unwrap_or_default())
        } else {
            Cow::Borrowed(&self.text[1..self.text.len() - 1])
        }
    }
}

/// The JSON string literal `text` starts with, and what follows it. Its closing quote is found
/// eight bytes at a time (the search for a byte to escape); a control character, which a
/// quoted literal cannot hold, ends the list.
pub fn literal(text: &str) -> Option<(Literal<'_>, &str)> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut from = 1;
    let mut escaped = false;
    loop {
        let at = crate::scim::next_to_escape(bytes, from)?;
        match bytes[at] {
            b'"' => {
                let literal = Literal {
                    text: &text[..=at],
                    escaped,
                };
                return Some((literal, &text[at + 1..]));
            }
            b'\\' => {
                escaped = true;
                from = at + 2;
            }
            _ => return None,
        }
    }
}

/// The literals of a list the database joined with commas (`"a","b",…`; empty: none), in its
/// order. Text the database cannot have written ends the list where it stops making sense.
pub fn comma_separated(text: &str) -> impl Iterator<Item = Literal<'_>> {
    let mut rest = (!text.is_empty()).then_some(text);
    std::iter::from_fn(move || {
        let (item, after) = literal(rest?)?;
        rest = after.strip_prefix(',');
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_read_literal_by_literal_whatever_the_literals_hold() {
        let listed = r#""a","b,\"c\"","","d\\""#;
        let items: Vec<&str> = comma_separated(listed).map(|l| l.text).collect();
        assert_eq!(items, [r#""a""#, r#""b,\"c\"""#, r#""""#, r#""d\\""#]);
        let unquoted: Vec<String> = comma_separated(listed)
            .map(|l| l.unquoted().into())
            .collect();
        assert_eq!(unquoted, ["a", "b,\"c\"", "", "d\\"]);
        assert_eq!(comma_separated("").count(), 0);
        // Broken text ends the list: what was read before stays.
        assert_eq!(comma_separated(r#""a","b"#).count(), 1);
        assert_eq!(comma_separated(r#""a";"b""#).count(), 1);
        assert_eq!(comma_separated("\"a\u{1}\"").count(), 0);
    }
}
