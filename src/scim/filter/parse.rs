//! Filter text → [`Filter`]: a small tolerant pre-pass fixes what real clients send and what `scim_v2` 1.0
//! refuses (`not(`, `$ref`, old authentik's unquoted values), `scim_v2` parses, and we convert its AST to ours
//! with our own length and depth limits. Every failure is `invalidFilter` with a detail that says where.

use scim_v2::filter as sv;

use super::{CompareOp, CompareValue, Filter};
use crate::scim::attr_path::AttrPath;
use crate::scim::error::ScimError;
use crate::scim::schema::registry;

/// Longest filter accepted, in bytes. The HTTP layer should also cap query strings.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest filter accepted (see [`Filter::depth`]); `scim_v2` allows 64, we allow less.
pub const MAX_FILTER_DEPTH: usize = 32;

/// `scim_v2` does not accept `$ref` as an attribute name; the pre-pass swaps it for this name and the
/// conversion swaps it back.
const REF_PLACEHOLDER: &str = "x-roster-dollar-ref";

/// Parses a filter. Attribute names and operators are case-insensitive; string, number, boolean and null
/// literals are supported; unquoted words after an operator are read as strings (`userName eq akadmin`).
pub fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    let input = text.trim();
    check_len(input, "filter").map_err(ScimError::InvalidFilter)?;
    let norm = normalize_filter(input)
        .map_err(|(pos, msg)| ScimError::InvalidFilter(at(input, pos, &msg)))?;
    if let Some(filter) = simple_comparison(&norm.text) {
        return Ok(filter);
    }
    let parsed: sv::Filter = norm
        .text
        .parse()
        .map_err(|e| ScimError::InvalidFilter(describe(&e, &norm, input)))?;
    let filter = convert_filter(parsed).map_err(ScimError::InvalidFilter)?;
    let depth = filter.depth();
    if depth > MAX_FILTER_DEPTH {
        return Err(ScimError::InvalidFilter(format!(
            "the filter is nested {depth} levels deep; the limit is {MAX_FILTER_DEPTH}"
        )));
    }
    Ok(filter)
}

/// The shape of nearly every IdP lookup, `attribute op "value"` (`userName eq "jane"`,
/// `emails.value eq "j@x"`): one plain attribute name with at most one sub-attribute, a comparison
/// operator and one string literal without escapes, read without `scim_v2`'s parser, whose lexer
/// builds its tables on every parse (5 % of a lookup's CPU). Anything else (URN paths, brackets,
/// logic, escapes, other literals) answers `None` and goes the general way, which gives the same
/// [`Filter`] for this shape (`unit::simple_comparisons_parse_as_the_general_parser_does`).
fn simple_comparison(norm: &str) -> Option<Filter> {
    let (attr, rest) = norm.split_once(char::is_whitespace)?;
    let (op, literal) = rest.trim_start().split_once(char::is_whitespace)?;
    let literal = literal.trim_start();
    let op = match op.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "co" => CompareOp::Co,
        "sw" => CompareOp::Sw,
        "ew" => CompareOp::Ew,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        _ => return None,
    };
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains(['"', '\\']) || inner.chars().any(char::is_control) {
        return None;
    }
    let (name, sub_attr) = match attr.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (attr, None),
    };
    let plain = |word: &str| {
        word.starts_with(|c: char| c.is_ascii_alphabetic())
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !plain(name) || !sub_attr.is_none_or(plain) {
        return None;
    }
    Some(Filter::Compare {
        path: AttrPath {
            urn: None,
            name: unplaceholder(name.to_string()),
            sub_attr: sub_attr.map(|s| unplaceholder(s.to_string())),
        },
        op,
        value: CompareValue::Str(inner.to_string()),
    })
}

pub(crate) fn check_len(input: &str, what: &str) -> Result<(), String> {
    if input.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if input.len() > MAX_FILTER_LEN {
        return Err(format!(
            "the {what} is {} bytes long; the limit is {MAX_FILTER_LEN}",
            input.len()
        ));
    }
    Ok(())
}

/// Text after the pre-pass, with a map back to positions in the client's text.
pub(crate) struct Normalized {
    pub(crate) text: String,
    /// `(offset in text, offset in input)` at the start of each token, ascending.
    spans: Vec<(usize, usize)>,
}

impl Normalized {
    fn input_offset(&self, out: usize) -> usize {
        let idx = self.spans.partition_point(|(o, _)| *o <= out);
        match idx.checked_sub(1).and_then(|i| self.spans.get(i)) {
            Some((_, input_start)) => *input_start,
            None => 0,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    Start,
    Open,
    Close,
    Attr,
    Op,
    Value,
    Logic,
    Not,
}

/// The tolerant pre-pass of a PATCH path (`emails[type eq "work"].value`). Errors carry a byte
/// offset into `input`.
pub(crate) fn normalize(input: &str) -> Result<Normalized, (usize, String)> {
    normalize_with(input, false)
}

/// The tolerant pre-pass of a filter, which also reads a comparison of an element's
/// sub-attribute, `emails[type eq "work"].value eq "x"` (Microsoft Entra ID matching users on
/// their work email), missing from RFC 7644's filter grammar: as the element filter it means,
/// `emails[(type eq "work") and value eq "x"]`.
pub(crate) fn normalize_filter(input: &str) -> Result<Normalized, (usize, String)> {
    normalize_with(input, true)
}

fn normalize_with(input: &str, element_comparisons: bool) -> Result<Normalized, (usize, String)> {
    let mut out = String::with_capacity(input.len() + 16);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut prev = Prev::Start;
    // Where each open `(` or `[` is in `out`; the element filter whose `]` waits for the
    // comparison after `].sub` (its input offset, for the error when none follows).
    let mut opens: Vec<usize> = Vec::new();
    let mut element_open: Option<usize> = None;
    let mut i = 0;
    while let Some(c) = input[i..].chars().next() {
        if element_open.is_some() && prev == Prev::Value {
            out.push(']');
            element_open = None;
            prev = Prev::Close;
        }
        spans.push((out.len(), i));
        if c.is_whitespace() {
            let end = input[i..]
                .find(|c: char| !c.is_whitespace())
                .map_or(input.len(), |n| i + n);
            out.push_str(&input[i..end]);
            i = end;
            continue;
        }
        match c {
            '(' | '[' => {
                opens.push(out.len());
                out.push(c);
                prev = Prev::Open;
                i += 1;
            }
            ']' if element_comparisons
                && element_open.is_none()
                && sub_attribute_follows(&input[i + 1..]) =>
            {
                // `attr[filter].sub op value`: the filter in parentheses, then `and sub op
                // value` inside the brackets, closed after the value.
                let open = opens
                    .pop()
                    .ok_or((i, "this `]` closes nothing".to_string()))?;
                out.insert(open + 1, '(');
                for span in spans.iter_mut().filter(|(o, _)| *o > open) {
                    span.0 += 1;
                }
                out.push_str(") and ");
                element_open = Some(i);
                prev = Prev::Logic;
                i += 2; // past `].`
            }
            ')' | ']' => {
                opens.pop();
                out.push(c);
                prev = Prev::Close;
                i += 1;
            }
            '"' => {
                let end = string_end(input, i)
                    .ok_or((i, "this string literal has no closing quote".to_string()))?;
                out.push_str(&input[i..end]);
                prev = Prev::Value;
                i = end;
            }
            _ => {
                let end = input[i..]
                    .find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"'))
                    .map_or(input.len(), |n| i + n);
                let word = &input[i..end];
                let lower = word.to_ascii_lowercase();
                match prev {
                    Prev::Attr if is_compare_op(&lower) => {
                        out.push_str(word);
                        prev = Prev::Op;
                    }
                    Prev::Attr if lower == "pr" => {
                        out.push_str(word);
                        prev = Prev::Value;
                    }
                    Prev::Op => {
                        push_literal(&mut out, word, &lower).map_err(|m| (i, m))?;
                        prev = Prev::Value;
                    }
                    Prev::Value | Prev::Close if lower == "and" || lower == "or" => {
                        out.push_str(word);
                        prev = Prev::Logic;
                    }
                    Prev::Start | Prev::Open | Prev::Logic | Prev::Not if lower == "not" => {
                        out.push_str(word);
                        if input[end..].starts_with('(') {
                            out.push(' ');
                        }
                        prev = Prev::Not;
                    }
                    _ => {
                        push_attr_word(&mut out, word);
                        prev = Prev::Attr;
                    }
                }
                i = end;
            }
        }
    }
    if let Some(at) = element_open {
        if prev != Prev::Value {
            return Err((
                at,
                "a sub-attribute after `]` needs an operator and a value (`emails[type eq \"work\"].value eq \"…\"`)".to_string(),
            ));
        }
        out.push(']');
    }
    Ok(Normalized { text: out, spans })
}

/// Whether the text after a `]` names a sub-attribute: `.value`, not a space or the end.
fn sub_attribute_follows(rest: &str) -> bool {
    rest.strip_prefix('.')
        .and_then(|r| r.chars().next())
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
}

/// Byte offset just past the closing quote of the string literal starting at `start`.
fn string_end(input: &str, start: usize) -> Option<usize> {
    let bytes = input.as_bytes();
    let mut j = start + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

fn is_compare_op(lower: &str) -> bool {
    matches!(
        lower,
        "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le"
    )
}

/// An unquoted comparison value: JSON literals and numbers stay, `True`/`FALSE`/`Null` are lowercased, any
/// other word becomes a JSON string (old authentik sends `userName eq akadmin`).
fn push_literal(out: &mut String, word: &str, lower: &str) -> Result<(), String> {
    if matches!(lower, "true" | "false" | "null") {
        out.push_str(lower);
    } else if is_json_number(word) {
        out.push_str(word);
    } else {
        let quoted =
            serde_json::to_string(word).map_err(|e| format!("cannot read value `{word}`: {e}"))?;
        out.push_str(&quoted);
    }
    Ok(())
}

/// Copies an attribute path word, replacing each `$ref` segment with [`REF_PLACEHOLDER`].
fn push_attr_word(out: &mut String, word: &str) {
    if !word.contains('$') {
        out.push_str(word);
        return;
    }
    let mut segment_start = true;
    let mut rest = word;
    while let Some(c) = rest.chars().next() {
        let is_ref = segment_start
            && rest.len() >= 4
            && rest.is_char_boundary(4)
            && rest[..4].eq_ignore_ascii_case("$ref")
            && rest[4..]
                .chars()
                .next()
                .is_none_or(|n| n == '.' || n == ':');
        if is_ref {
            out.push_str(REF_PLACEHOLDER);
            rest = &rest[4..];
            segment_start = false;
            continue;
        }
        out.push(c);
        segment_start = c == '.' || c == ':';
        rest = &rest[c.len_utf8()..];
    }
}

/// RFC 8259 number syntax.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

/// "`msg` at character N (near `snippet`)", N counted in characters from 1.
pub(crate) fn at(input: &str, byte_pos: usize, msg: &str) -> String {
    let pos = byte_pos.min(input.len());
    let pos = (0..=pos)
        .rev()
        .find(|p| input.is_char_boundary(*p))
        .unwrap_or(0);
    let char_no = input[..pos].chars().count() + 1;
    let snippet: String = input[pos..].chars().take(20).collect();
    if snippet.is_empty() {
        format!("{msg} at the end (character {char_no})")
    } else {
        format!("{msg} at character {char_no} (near `{snippet}`)")
    }
}

/// Turns a `scim_v2` parse error into a detail that names the position in the client's text.
pub(crate) fn describe(err: &sv::ParseError, norm: &Normalized, input: &str) -> String {
    use lalrpop_like::*;
    match classify(err) {
        Kind::Invalid(loc) => at(input, norm.input_offset(loc), "unrecognised text"),
        Kind::Eof(expected) => at(
            input,
            input.len(),
            &format!(
                "the expression ends too early (expected {})",
                friendly(expected)
            ),
        ),
        Kind::Unexpected(loc, expected) => at(
            input,
            norm.input_offset(loc),
            &format!("unexpected token (expected {})", friendly(expected)),
        ),
        Kind::Extra(loc) => at(input, norm.input_offset(loc), "unexpected extra text"),
        Kind::User(msg) => msg.replace(REF_PLACEHOLDER, "$ref"),
    }
}

/// Small adapter over the lalrpop error enum that `scim_v2` re-exports as its `ParseError`.
mod lalrpop_like {
    use scim_v2::filter as sv;

    pub(super) enum Kind<'e> {
        Invalid(usize),
        Eof(&'e [String]),
        Unexpected(usize, &'e [String]),
        Extra(usize),
        User(String),
    }

    pub(super) fn classify(err: &sv::ParseError) -> Kind<'_> {
        type P = sv::ParseError;
        match err {
            P::InvalidToken { location } => Kind::Invalid(*location),
            P::UnrecognizedEof { expected, .. } => Kind::Eof(expected),
            P::UnrecognizedToken { token, expected } => Kind::Unexpected(token.0, expected),
            P::ExtraToken { token } => Kind::Extra(token.0),
            P::User { error } => Kind::User(error.to_string()),
        }
    }

    /// lalrpop names expected tokens by their regexes; say them the way a person would.
    pub(super) fn friendly(expected: &[String]) -> String {
        let mut names: Vec<String> = Vec::new();
        for e in expected {
            let name = if let Some(start) = e.find("(?i:") {
                let tail = &e[start + 4..];
                tail.split(')').next().unwrap_or(tail).to_string()
            } else if e.contains("StringLit") {
                "a quoted string".into()
            } else if e.contains("NumberLit") {
                "a number".into()
            } else if e.contains("AttrNameTok") || e.contains("AttrPathTok") || e.contains("a-zA-Z")
            {
                "an attribute name".into()
            } else if e.contains("-?(?:0") {
                "a number".into()
            } else if e.contains("([^") {
                "a quoted string".into()
            } else {
                e.trim_matches('"').to_string()
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.is_empty() {
            "nothing more".into()
        } else {
            names.join(", ")
        }
    }
}

// ---- scim_v2 AST → ours ------------------------------------------------------------------------------------

fn convert_filter(f: sv::Filter) -> Result<Filter, String> {
    Ok(match f {
        sv::Filter::Attr(e) => convert_attr_exp(e)?,
        sv::Filter::ValuePath(vp) => Filter::ValuePath {
            attr: convert_path(vp.attr)?,
            filter: Box::new(convert_val_filter(*vp.filter)?),
        },
        sv::Filter::Not(inner) => Filter::Not(Box::new(convert_filter(*inner)?)),
        sv::Filter::And(items) => Filter::And(
            items
                .into_vec()
                .into_iter()
                .map(convert_filter)
                .collect::<Result<_, _>>()?,
        ),
        sv::Filter::Or(items) => Filter::Or(
            items
                .into_vec()
                .into_iter()
                .map(convert_filter)
                .collect::<Result<_, _>>()?,
        ),
    })
}

pub(crate) fn convert_val_filter(f: sv::ValFilter) -> Result<Filter, String> {
    Ok(match f {
        sv::ValFilter::Attr(e) => convert_attr_exp(e)?,
        sv::ValFilter::Not(inner) => Filter::Not(Box::new(convert_val_filter(*inner)?)),
        sv::ValFilter::And(items) => Filter::And(
            items
                .into_vec()
                .into_iter()
                .map(convert_val_filter)
                .collect::<Result<_, _>>()?,
        ),
        sv::ValFilter::Or(items) => Filter::Or(
            items
                .into_vec()
                .into_iter()
                .map(convert_val_filter)
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn convert_attr_exp(e: sv::AttrExp) -> Result<Filter, String> {
    Ok(match e {
        sv::AttrExp::Present(p) => Filter::Present(convert_path(p)?),
        sv::AttrExp::Comparison(p, op, v) => Filter::Compare {
            path: convert_path(p)?,
            op: match op {
                sv::CompareOp::Eq => CompareOp::Eq,
                sv::CompareOp::Ne => CompareOp::Ne,
                sv::CompareOp::Co => CompareOp::Co,
                sv::CompareOp::Sw => CompareOp::Sw,
                sv::CompareOp::Ew => CompareOp::Ew,
                sv::CompareOp::Gt => CompareOp::Gt,
                sv::CompareOp::Ge => CompareOp::Ge,
                sv::CompareOp::Lt => CompareOp::Lt,
                sv::CompareOp::Le => CompareOp::Le,
            },
            value: match v {
                sv::CompValue::False => CompareValue::Bool(false),
                sv::CompValue::True => CompareValue::Bool(true),
                sv::CompValue::Null => CompareValue::Null,
                sv::CompValue::Number(n) => CompareValue::Number(n),
                sv::CompValue::Str(s) => CompareValue::Str(s),
            },
        },
    })
}

pub(crate) fn unplaceholder(name: String) -> String {
    if name.eq_ignore_ascii_case(REF_PLACEHOLDER) {
        "$ref".into()
    } else {
        name
    }
}

pub(crate) fn convert_path(p: sv::AttrPath) -> Result<AttrPath, String> {
    let name = unplaceholder(p.name);
    let sub_attr = p.sub_attr.map(unplaceholder);
    if let Some(uri) = &p.uri {
        let full = format!("{uri}:{name}");
        if sub_attr.is_none() && registry().schema(&full).is_some() {
            return Err(format!("`{full}` names a schema, not an attribute"));
        }
    }
    Ok(AttrPath {
        urn: p.uri,
        name,
        sub_attr,
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn json_numbers_are_recognised_by_rfc_8259_syntax() {
        for ok in ["0", "-1", "12", "1.5", "-0.25e10", "3E+2"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in ["01", "1.", ".5", "1e", "abc", "-", "2819c223"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    /// The general parser, without the shortcut.
    fn general(text: &str) -> Result<Filter, String> {
        let norm = normalize_filter(text.trim()).map_err(|(_, m)| m)?;
        let parsed: sv::Filter = norm.text.parse().map_err(|e| format!("{e:?}"))?;
        convert_filter(parsed)
    }

    #[test]
    fn simple_comparisons_parse_as_the_general_parser_does() {
        let shortcut = [
            r#"userName eq "bjensen""#,
            r#"userName EQ "Barbara Jensen""#,
            r#"  externalId   eq   "0a1b-2c"  "#,
            r#"emails.value eq "bjensen@example.com""#,
            r#"members.$ref sw "https://x/""#,
            r#"displayName co "ops team ünï""#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"title pr_x eq "x""#,
            r#"userName eq """#,
            "userName eq akadmin",
            r#"name.givenName ne "a b c""#,
            r#"x_y-z le "1""#,
        ];
        for text in shortcut {
            let norm = normalize_filter(text.trim()).expect("normalizes");
            let fast = simple_comparison(&norm.text);
            let slow = general(text);
            match (&fast, &slow) {
                (Some(f), Ok(s)) => assert_eq!(f, s, "{text}"),
                (None, _) => assert!(text.contains("pr_x"), "{text}: no shortcut"),
                (Some(f), Err(e)) => panic!("{text}: shortcut {f:?}, general parser {e}"),
            }
        }
        let general_only = [
            r#"userName eq "a\"b""#,
            r#"userName eq "a\\b""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#,
            r#"emails[value eq "x"]"#,
            r#"userName eq "a" and active eq true"#,
            r#"active eq true"#,
            r#"userName pr"#,
            r#"not (userName eq "x")"#,
            r#"a.b.c eq "x""#,
            r#"1abc eq "x""#,
            r#"userName eq "x" "y""#,
        ];
        for text in general_only {
            let norm = normalize_filter(text.trim()).expect("normalizes");
            assert_eq!(simple_comparison(&norm.text), None, "{text}");
        }
    }

    #[test]
    fn the_pre_pass_quotes_unquoted_values_and_spaces_out_not() {
        let n = normalize("not(userName eq akadmin)").expect("normalizes");
        assert_eq!(n.text, r#"not (userName eq "akadmin")"#);
    }

    #[test]
    fn the_pre_pass_renames_ref_segments_only() {
        let n = normalize(r#"members[$ref eq "x"].$ref"#).expect("normalizes");
        assert_eq!(
            n.text,
            format!(r#"members[{p} eq "x"].{p}"#, p = REF_PLACEHOLDER)
        );
        let n = normalize_filter(r#"members[$ref eq "x"].$ref pr"#).expect("normalizes");
        assert_eq!(
            n.text,
            format!(r#"members[({p} eq "x") and {p} pr]"#, p = REF_PLACEHOLDER)
        );
    }
}
