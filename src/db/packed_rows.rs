//! Many rows read as one text value: the database writes each row's columns into one string
//! (`concat`), the rows one after another (`string_agg`), and this reads them back.
//!
//! Why: through sqlx's `Any` driver every row of a result is a message from the connection's
//! worker thread, every column of it a copied value with its own column description, looked up
//! by name and copied again into the row type. For a page of 100 users of 13 columns that was
//! about 40,000 instructions a user (issue #13's profile), more than the database's own work.
//! One value of the page's text is copied once.
//!
//! The format, written by SQL the caller builds with [`text`], [`int`] and [`END`]: a text
//! column is `<bytes>:<text>` (`octet_length` on both databases; a NULL has no length: `:`),
//! a number `<digits>,`, and the last column of a row runs to [`END`] (it must be text that
//! never holds a newline, like JSON string literals joined by commas).

/// The record separator: a newline (written inside the SQL literal itself).
pub const END: &str = "'\n'";

/// A text column (or expression without side effects: it is named twice) for `concat(…)`.
pub fn text(column: &str) -> String {
    format!("octet_length({column}), ':', {column}")
}

/// A number column for `concat(…)`.
pub fn int(column: &str) -> String {
    format!("{column}, ','")
}

/// Reads packed rows from the front of the text.
pub struct Reader<'a> {
    rest: &'a str,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader { rest: text }
    }

    /// Whether every row has been read.
    pub fn is_done(&self) -> bool {
        self.rest.is_empty()
    }

    /// A text column: `Some(None)` for NULL, `None` when the text is not what [`text`] writes.
    pub fn text(&mut self) -> Option<Option<&'a str>> {
        let (length, digits) = self.number(b':')?;
        let after = &self.rest[digits + 1..];
        if digits == 0 {
            self.rest = after;
            return Some(None);
        }
        let length = usize::try_from(length).ok()?;
        let value = after.get(..length)?;
        self.rest = &after[length..];
        Some(Some(value))
    }

    /// A number column.
    pub fn int(&mut self) -> Option<i64> {
        let (value, digits) = self.number(b',')?;
        if digits == 0 {
            return None;
        }
        self.rest = &self.rest[digits + 1..];
        Some(value)
    }

    /// The number at the front (an optional `-`, then decimal digits) read in the one pass that
    /// finds the `end` byte after it, with the count of bytes before that byte; `None` when
    /// anything else comes first or it overflows. (Finding the byte, then parsing, was two
    /// passes: a page's unpacking took 26 % more instructions.)
    fn number(&self, end: u8) -> Option<(i64, usize)> {
        let bytes = self.rest.as_bytes();
        let negative = bytes.first() == Some(&b'-');
        let mut at = usize::from(negative);
        let mut value: i64 = 0;
        loop {
            match *bytes.get(at)? {
                b if b == end => break,
                b @ b'0'..=b'9' => {
                    let digit = i64::from(b - b'0');
                    value = value.checked_mul(10)?;
                    value = if negative {
                        value.checked_sub(digit)?
                    } else {
                        value.checked_add(digit)?
                    };
                }
                _ => return None,
            }
            at += 1;
        }
        if negative && at == 1 {
            return None;
        }
        Some((value, at))
    }

    /// The row's last column: the text up to the row's end.
    pub fn last(&mut self) -> Option<&'a str> {
        let end = self.rest.find('\n')?;
        let value = &self.rest[..end];
        self.rest = &self.rest[end + 1..];
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_read_back_by_length_whatever_they_hold() {
        // Two rows: text with the separators inside it, multi-byte text, NULL, empty, numbers.
        let packed = "5:a:b,\n7:Łódź:0:-12,42,x\n3:end1:z9,last\n";
        let mut r = Reader::new(packed);
        assert_eq!(r.text(), Some(Some("a:b,\n")));
        assert_eq!(r.text(), Some(Some("Łódź")));
        assert_eq!(r.text(), Some(None));
        assert_eq!(r.text(), Some(Some("")));
        assert_eq!(r.int(), Some(-12));
        assert_eq!(r.int(), Some(42));
        assert_eq!(r.last(), Some("x"));
        assert!(!r.is_done());
        assert_eq!(r.text(), Some(Some("end")));
        assert_eq!(r.text(), Some(Some("z")));
        assert_eq!(r.int(), Some(9));
        assert_eq!(r.last(), Some("last"));
        assert!(r.is_done());
    }

    #[test]
    fn text_that_is_not_packed_rows_is_refused() {
        assert_eq!(Reader::new("9:short").text(), None);
        assert_eq!(Reader::new("x:abc").text(), None);
        assert_eq!(Reader::new("no separator").text(), None);
        // A length that ends inside a character.
        assert_eq!(Reader::new("1:Ł").text(), None);
        assert_eq!(Reader::new("1x,").int(), None);
        assert_eq!(Reader::new("no end").last(), None);
        // What the SQL never writes: a `+`, a space, a sign alone, a number out of range.
        assert_eq!(Reader::new("-,").int(), None);
        assert_eq!(Reader::new("+1,").int(), None);
        assert_eq!(Reader::new(" 1,").int(), None);
        assert_eq!(Reader::new(",").int(), None);
        assert_eq!(Reader::new("9223372036854775808,").int(), None);
        assert_eq!(Reader::new("-:x").text(), None);
        assert_eq!(Reader::new("99999999999999999999:x").text(), None);
    }

    #[test]
    fn numbers_are_read_to_the_ends_of_their_range() {
        let packed = "9223372036854775807,-9223372036854775808,0,-0,007,";
        let mut r = Reader::new(packed);
        for expected in [i64::MAX, i64::MIN, 0, 0, 7] {
            assert_eq!(r.int(), Some(expected));
        }
        assert!(r.is_done());
    }
}
