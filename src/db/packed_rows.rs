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
        let colon = self.rest.find(':')?;
        let (length, after) = (&self.rest[..colon], &self.rest[colon + 1..]);
        if length.is_empty() {
            self.rest = after;
            return Some(None);
        }
        let length: usize = length.parse().ok()?;
        let value = after.get(..length)?;
        self.rest = &after[length..];
        Some(Some(value))
    }

    /// A number column.
    pub fn int(&mut self) -> Option<i64> {
        let comma = self.rest.find(',')?;
        let value = self.rest[..comma].parse().ok()?;
        self.rest = &self.rest[comma + 1..];
        Some(value)
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
    }
}
