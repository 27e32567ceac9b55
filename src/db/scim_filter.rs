//! SCIM filters → SQL, in one place. Only attributes with an indexed column are translated
//! (`userName`, `externalId`, `emails.value`, `displayName`, `active`, `meta.lastModified`,
//! `meta.created`, `id`, and `members.value` for groups); any other attribute is `invalidFilter`,
//! never a silently wrong result. The SQL refers to the aliases of `db::scim_users` (`u`, `a`, `s`)
//! and `db::groups` (`g`).

use super::{Arg, Backend};
use crate::scim::filter::eval::{parse_bool, parse_datetime};
use crate::scim::{AttrPath, CompareOp, CompareValue, Filter, ScimError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
    /// Inside `emails[…]`: one row of `user_emails e`.
    Email,
    /// Inside `members[…]`: one row of `group_members m`.
    Member,
}

/// How a column compares.
#[derive(Clone, Copy)]
enum Col {
    /// Stored lower-cased; the value is lower-cased (caseExact false).
    Lower(&'static str),
    /// Compared exactly (caseExact true).
    Exact(&'static str),
    /// A 0/1 flag.
    Flag(&'static str),
    /// Epoch millis compared with a dateTime.
    Time(&'static str),
    /// `u.id IN (SELECT … WHERE column = value)`: emails.value or members.value, one of the
    /// elements. Not `EXISTS (… WHERE element.owner = u.id AND …)`: correlated, that is probed
    /// once for every user of the tenant (an `emails.value eq` look-up 190 ms at 100,000
    /// users); as a list of owners the element's index finds the few that match (0.3 ms).
    /// `owners` is the text up to the element's condition, `column` the element's column.
    Within {
        owners: &'static str,
        column: &'static str,
    },
}

/// A WHERE fragment under construction for `backend`; `next` is the number of the next `$n`.
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
    backend: Backend,
}

impl Sql {
    pub fn new(backend: Backend, args: Vec<Arg>) -> Self {
        Sql {
            text: String::new(),
            args,
            backend,
        }
    }

    /// Adds an argument and answers its placeholder.
    pub fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
}

const UNSUPPORTED: &str = "filtering on `";

fn unsupported(path: &AttrPath) -> ScimError {
    ScimError::InvalidFilter(format!(
        "{UNSUPPORTED}{path}` is not supported; filter on userName, externalId, emails.value, \
         displayName, active, meta.lastModified, meta.created, id or members.value"
    ))
}

fn column(kind: Kind, path: &AttrPath) -> Result<Col, ScimError> {
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);
    if let Some(urn) = &path.urn {
        let core = match kind {
            Kind::Group | Kind::Member => crate::scim::urn::GROUP_URN,
            _ => crate::scim::urn::USER_URN,
        };
        if !urn.eq_ignore_ascii_case(core) {
            return Err(unsupported(path));
        }
    }
    let col = match (kind, name.as_str(), sub.as_deref()) {
        (Kind::Email, "value", None) => Col::Lower("e.value_lower"),
        (Kind::Email, "type", None) => Col::Lower("e.kind"),
        (Kind::Member, "value", None) => Col::Exact("m.user_id"),
        (Kind::User, "id", None) => Col::Exact("u.id"),
        (Kind::Group, "id", None) => Col::Exact("g.id"),
        (Kind::User, "username", None) => Col::Lower("u.username_lower"),
        (Kind::User, "externalid", None) => Col::Exact("s.external_id"),
        (Kind::User, "displayname", None) => Col::Lower("u.display_name_lower"),
        (Kind::User, "active", None) => Col::Flag("a.active"),
        (Kind::User, "emails", None | Some("value")) => Col::Within {
            owners: "u.id IN (SELECT e.user_id FROM user_emails e WHERE",
            column: "e.value_lower",
        },
        (Kind::User, "meta", Some("lastmodified")) => Col::Time("u.updated_at"),
        (Kind::User, "meta", Some("created")) => Col::Time("u.created_at"),
        (Kind::Group, "displayname", None) => Col::Lower("g.display_name_lower"),
        (Kind::Group, "externalid", None) => Col::Exact("g.external_id"),
        (Kind::Group, "members", None | Some("value")) => Col::Within {
            owners: "g.id IN (SELECT m.group_id FROM group_members m WHERE",
            column: "m.user_id",
        },
        (Kind::Group, "meta", Some("lastmodified")) => Col::Time("g.updated_at"),
        (Kind::Group, "meta", Some("created")) => Col::Time("g.created_at"),
        _ => return Err(unsupported(path)),
    };
    Ok(col)
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `s` as a GLOB pattern matching itself: its wildcards in brackets.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

/// The operator and pattern of `co` or `ew` (`op`) with `text`, exact in case on both
/// databases: PostgreSQL's `LIKE` is; SQLite's ignores ASCII case, so there it is `GLOB`, which
/// does not (a case-exact `externalId ew "ABC"` matched "…abc"). Case-insensitive attributes
/// compare lower-cased columns with lower-cased text either way. (`sw` is a range,
/// [`starts_with`].)
fn pattern(backend: Backend, op: CompareOp, text: &str) -> (&'static str, String) {
    let (operator, any, escaped) = match backend {
        Backend::Postgres => ("LIKE", '%', like_escape(text)),
        Backend::Sqlite => ("GLOB", '*', glob_escape(text)),
    };
    let pattern = match op {
        CompareOp::Co => format!("{any}{escaped}{any}"),
        _ => format!("{any}{escaped}"),
    };
    (operator, pattern)
}

/// `column` starts with `prefix`, said as a range of the column's order: from the prefix up to
/// the first text after all those that start with it ([`after_all_starting_with`]). Both
/// databases compare these columns bytewise (SQLite's `BINARY`; PostgreSQL's `"C"`,
/// [`super::collation`], and said again here for the columns it does not set, the ids), an
/// order in which the texts that start with a prefix are exactly that range. So the column's
/// index finds them on both, also under a prepared statement's generic plan, where a `LIKE` or
/// `GLOB` of a parameter has no prefix to seek; and to SQLite's planner a comparison, unlike a
/// `GLOB`, says that a user without a source cannot match (an `externalId sw` of the LEFT JOINed
/// sources walked the tenant, 207 ms at 100,000 users).
fn starts_with(sql: &mut Sql, column: &str, prefix: String) -> String {
    let bytewise = match sql.backend {
        Backend::Postgres => " COLLATE \"C\"",
        Backend::Sqlite => "",
    };
    let end = after_all_starting_with(&prefix);
    let from = sql.arg(Arg::Text(prefix));
    match end {
        Some(end) => {
            let to = sql.arg(Arg::Text(end));
            format!("({column}{bytewise} >= {from} AND {column}{bytewise} < {to})")
        }
        None => format!("{column}{bytewise} >= {from}"),
    }
}

/// The least text greater than every text that starts with `prefix`, in code point order (UTF-8's
/// byte order): the prefix without its trailing `char::MAX`s, its last character the next one.
/// None when there is no such text (every text from the prefix on starts with it).
fn after_all_starting_with(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(c as u32 + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The SQL operator of `eq`, `ne`, `gt`, `ge`, `lt` or `le`; none for `co`, `sw` and `ew`.
fn comparison(op: CompareOp) -> Option<&'static str> {
    Some(match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => return None,
    })
}

fn text_value(v: &CompareValue) -> Option<String> {
    match v {
        CompareValue::Str(s) => Some(s.clone()),
        CompareValue::Number(n) => Some(n.to_string()),
        CompareValue::Bool(b) => Some(b.to_string()),
        CompareValue::Null => None,
    }
}

/// Appends the SQL for `filter` to `sql`.
pub fn translate(kind: Kind, filter: &Filter, sql: &mut Sql) -> Result<(), ScimError> {
    match filter {
        Filter::And(items) | Filter::Or(items) => {
            let joiner = if matches!(filter, Filter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            sql.text.push('(');
            for (i, f) in items.iter().enumerate() {
                if i > 0 {
                    sql.text.push_str(joiner);
                }
                translate(kind, f, sql)?;
            }
            sql.text.push(')');
        }
        Filter::Not(inner) => {
            sql.text.push_str("NOT (");
            translate(kind, inner, sql)?;
            sql.text.push(')');
        }
        Filter::Present(path) => match column(kind, path)? {
            Col::Lower(c) | Col::Exact(c) => sql
                .text
                .push_str(&format!("({c} IS NOT NULL AND {c} <> '')")),
            Col::Time(c) => sql.text.push_str(&format!("({c} IS NOT NULL)")),
            Col::Flag(_) => sql.text.push_str("(1 = 1)"),
            Col::Within { owners, column } => sql
                .text
                .push_str(&format!("{owners} {column} IS NOT NULL)")),
        },
        Filter::ValuePath { attr, filter } => {
            // One element must match the whole inner filter: the resource is among those of
            // the elements that do ([`Col::Within`]).
            let (inner_kind, prefix) = match (kind, attr.name.to_ascii_lowercase().as_str()) {
                (Kind::User, "emails") => (
                    Kind::Email,
                    "u.id IN (SELECT e.user_id FROM user_emails e WHERE ",
                ),
                (Kind::Group, "members") => (
                    Kind::Member,
                    "g.id IN (SELECT m.group_id FROM group_members m WHERE ",
                ),
                _ => return Err(unsupported(attr)),
            };
            sql.text.push_str(prefix);
            translate(inner_kind, filter, sql)?;
            sql.text.push(')');
        }
        Filter::Compare { path, op, value } => compare(kind, path, *op, value, sql)?,
    }
    Ok(())
}

fn compare(
    kind: Kind,
    path: &AttrPath,
    op: CompareOp,
    value: &CompareValue,
    sql: &mut Sql,
) -> Result<(), ScimError> {
    let col = column(kind, path)?;
    let bad = |why: &str| ScimError::InvalidFilter(format!("`{path} {op} {value}`: {why}"));
    match col {
        Col::Flag(c) => {
            let b = match value {
                CompareValue::Bool(b) => *b,
                CompareValue::Str(s) => {
                    parse_bool(s).ok_or_else(|| bad("expected true or false"))?
                }
                _ => return Err(bad("expected true or false")),
            };
            let p = sql.arg(Arg::Int(super::flag(b)));
            match op {
                CompareOp::Eq => sql.text.push_str(&format!("{c} = {p}")),
                CompareOp::Ne => sql.text.push_str(&format!("{c} <> {p}")),
                _ => return Err(bad("booleans only compare with eq and ne")),
            }
        }
        Col::Time(c) => {
            let CompareValue::Str(s) = value else {
                return Err(bad("expected an RFC 3339 dateTime"));
            };
            let t = parse_datetime(s).ok_or_else(|| bad("expected an RFC 3339 dateTime"))?;
            let millis = (t.unix_timestamp_nanos() / 1_000_000) as i64;
            let p = sql.arg(Arg::Int(millis));
            let o = comparison(op)
                .ok_or_else(|| bad("dateTimes compare with eq, ne, gt, ge, lt and le"))?;
            sql.text.push_str(&format!("{c} {o} {p}"));
        }
        Col::Lower(c) | Col::Exact(c) | Col::Within { column: c, .. } => {
            let lower = !matches!(col, Col::Exact(_));
            let within = match col {
                Col::Within { owners, .. } => Some(owners),
                _ => None,
            };
            let Some(text) = text_value(value) else {
                // `eq null` means "not present".
                return match op {
                    CompareOp::Eq if within.is_none() => {
                        sql.text.push_str(&format!("{c} IS NULL"));
                        Ok(())
                    }
                    CompareOp::Ne if within.is_none() => {
                        sql.text.push_str(&format!("{c} IS NOT NULL"));
                        Ok(())
                    }
                    _ => Err(bad("null only compares with eq and ne")),
                };
            };
            let text = if lower { text.to_lowercase() } else { text };
            // `ne` of an element: no element is equal.
            let (negated, op) = match (within, op) {
                (Some(_), CompareOp::Ne) => (true, CompareOp::Eq),
                _ => (false, op),
            };
            let condition = match op {
                CompareOp::Sw => starts_with(sql, c, text),
                CompareOp::Ne => {
                    let p = sql.arg(Arg::Text(text));
                    format!("({c} IS NULL OR {c} <> {p})")
                }
                _ => match comparison(op) {
                    Some(o) => {
                        let p = sql.arg(Arg::Text(text));
                        format!("{c} {o} {p}")
                    }
                    None => {
                        let (o, pattern) = pattern(sql.backend, op, &text);
                        let p = sql.arg(Arg::Text(pattern));
                        let escape = if o == "LIKE" { " ESCAPE '\\'" } else { "" };
                        format!("{c} {o} {p}{escape}")
                    }
                },
            };
            match within {
                Some(owners) if negated => {
                    sql.text.push_str(&format!("NOT ({owners} {condition}))"))
                }
                Some(owners) => sql.text.push_str(&format!("{owners} {condition})")),
                None => sql.text.push_str(&condition),
            }
        }
    }
    Ok(())
}

/// Whether `filter` runs entirely as SQL (every attribute it names has a column).
pub fn is_indexed(kind: Kind, filter: &Filter) -> bool {
    if matches!(kind, Kind::User) && matches_one_user_at_most(filter) {
        return true; // a lookup: no need to translate it a second time to know
    }
    match translate(kind, filter, &mut Sql::new(Backend::Postgres, Vec::new())) {
        Ok(()) => true,
        Err(ScimError::InvalidFilter(d)) => !d.starts_with(UNSUPPORTED),
        Err(_) => true,
    }
}

/// Whether `filter` matches at most one user: `userName eq` or `id eq` a string, columns under a
/// unique index. A page of such a filter needs no order and no deferred join.
pub fn matches_one_user_at_most(filter: &Filter) -> bool {
    let Filter::Compare {
        path,
        op: CompareOp::Eq,
        value: CompareValue::Str(_),
    } = filter
    else {
        return false;
    };
    matches!(
        column(Kind::User, path),
        Ok(Col::Lower("u.username_lower") | Col::Exact("u.id"))
    )
}

/// Whether one of `filter`'s terms (itself, or one of its top-level `and`s) finds its users by an
/// index of the users' own rows: `userName`, `displayName` or `id` compared `eq`, `sw`, `gt`,
/// `ge`, `lt` or `le` with a value, or `meta.lastModified` in a range — and
/// none finds them by another table's (`externalId eq`, by the integration's sources). Such a
/// filter's users are best read from that index and then checked for access to the tenant:
/// SQLite's planner, without statistics, prices the tenant's access rows as few as that index's
/// and walks all of them instead (a `displayName eq` counted 100,000 users to find one: 74 ms;
/// a `meta.lastModified gt` found none in 138 ms).
pub fn seeks_users(filter: &Filter) -> bool {
    let terms = match filter {
        Filter::And(items) => items.as_slice(),
        one => std::slice::from_ref(one),
    };
    let mut seeks = false;
    for term in terms {
        let Filter::Compare { path, op, value } = term else {
            continue;
        };
        let ranged = matches!(
            op,
            CompareOp::Eq | CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        );
        let valued = !matches!(value, CompareValue::Null);
        match column(Kind::User, path) {
            Ok(Col::Exact("s.external_id")) if *op == CompareOp::Eq && valued => return false,
            Ok(Col::Lower(c) | Col::Exact(c))
                if c.starts_with("u.") && valued && (ranged || *op == CompareOp::Sw) =>
            {
                seeks = true
            }
            Ok(Col::Time("u.updated_at")) if ranged && valued => seeks = true,
            _ => {}
        }
    }
    seeks
}

/// Whether every term of `filter` is about the user's access in the tenant (`active`), so that
/// the tenant's access rows alone answer it.
pub fn only_access(filter: &Filter) -> bool {
    match filter {
        Filter::And(items) | Filter::Or(items) => items.iter().all(only_access),
        Filter::Not(inner) => only_access(inner),
        Filter::Compare { path, .. } | Filter::Present(path) => {
            matches!(column(Kind::User, path), Ok(Col::Flag(c)) if c.starts_with("a."))
        }
        Filter::ValuePath { .. } => false,
    }
}

/// The index through which a filter on groups finds its few groups when SQLite, pricing without
/// statistics, would rather walk the tenant's groups in the page's order and test each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSeek {
    /// `externalId eq`: the tenant's external-id index (`groups_tenant_external_idx`).
    ExternalId,
    /// `members eq`, `members.value eq` or `members[value eq …]`: the member's memberships
    /// (`group_members_user_refs_idx`), then each group by its id.
    Member,
}

/// Which [`GroupSeek`] one of `filter`'s terms (itself, or one of its top-level `and`s) offers;
/// none when a term already names one group by a unique index (`id eq`, `displayName eq`),
/// which SQLite finds by itself.
pub fn seeks_groups(filter: &Filter) -> Option<GroupSeek> {
    let terms = match filter {
        Filter::And(items) => items.as_slice(),
        one => std::slice::from_ref(one),
    };
    let mut seek = None;
    for term in terms {
        let (kind, path, value) = match term {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } => (Kind::Group, path, value),
            Filter::ValuePath { attr, filter } if attr.name.eq_ignore_ascii_case("members") => {
                match filter.as_ref() {
                    Filter::Compare {
                        path,
                        op: CompareOp::Eq,
                        value,
                    } => (Kind::Member, path, value),
                    _ => continue,
                }
            }
            _ => continue,
        };
        if matches!(value, CompareValue::Null) {
            continue;
        }
        match column(kind, path) {
            Ok(Col::Exact("g.id") | Col::Lower("g.display_name_lower")) => return None,
            Ok(Col::Exact("g.external_id")) => seek = Some(GroupSeek::ExternalId),
            Ok(Col::Within { .. } | Col::Exact("m.user_id")) if seek.is_none() => {
                seek = Some(GroupSeek::Member)
            }
            _ => {}
        }
    }
    seek
}

/// Whether a [`sort_column`] may hold no value (NULL): such resources sort last ascending and
/// first descending (RFC 7644 §3.4.2.3).
pub fn may_be_missing(column: &str) -> bool {
    matches!(
        column,
        "u.display_name_lower" | "s.external_id" | "g.external_id"
    )
}

/// The ORDER BY terms of a [`sort_column`] in `dir`: resources without a value last ascending
/// and first descending (RFC 7644 §3.4.2.3), where SQLite's own order puts NULLs first
/// ascending.
pub fn sort_terms(column: &str, dir: &str) -> String {
    if may_be_missing(column) {
        format!("({column} IS NULL) {dir}, {column} {dir}")
    } else {
        format!("{column} {dir}")
    }
}

/// The ORDER BY column for `sortBy`, or `invalidValue` for an attribute without one.
pub fn sort_column(kind: Kind, path: &AttrPath) -> Result<&'static str, ScimError> {
    match column(kind, path) {
        Ok(Col::Lower(c) | Col::Exact(c) | Col::Time(c) | Col::Flag(c)) => Ok(c),
        _ => Err(ScimError::InvalidValue(format!(
            "sorting by `{path}` is not supported; sort by userName, displayName, externalId, \
             id, meta.created or meta.lastModified"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(kind: Kind, f: &str) -> Result<(String, Vec<Arg>), ScimError> {
        sql_for(Backend::Postgres, kind, f)
    }

    fn sql_for(backend: Backend, kind: Kind, f: &str) -> Result<(String, Vec<Arg>), ScimError> {
        let mut s = Sql::new(backend, vec![Arg::Text("t".into())]);
        translate(kind, &Filter::parse(f)?, &mut s)?;
        Ok((s.text, s.args))
    }

    #[test]
    fn username_eq_compares_the_lowercase_column() {
        let (text, args) = sql(Kind::User, "userName eq \"JDoe\"").unwrap();
        assert_eq!(text, "u.username_lower = $2");
        assert_eq!(args[1], Arg::Text("jdoe".into()));
    }

    #[test]
    fn only_username_or_id_equality_matches_one_user_at_most() {
        let one = |f: &str| matches_one_user_at_most(&Filter::parse(f).unwrap());
        for lookup in [
            "userName eq \"JDoe\"",
            "USERNAME eq \"JDoe\"",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"x\"",
            "id eq \"0190\"",
        ] {
            assert!(one(lookup), "{lookup}");
            // What `is_indexed` answers for it without translating, translating answers too.
            let f = Filter::parse(lookup).unwrap();
            assert!(translate(Kind::User, &f, &mut Sql::new(Backend::Sqlite, Vec::new())).is_ok());
            assert!(is_indexed(Kind::User, &f));
        }
        for many in [
            "userName ne \"x\"",
            "userName sw \"x\"",
            "userName eq \"x\" or userName eq \"y\"",
            "userName eq \"x\" and active eq true",
            "externalId eq \"x\"",
            "displayName eq \"x\"",
            "emails[value eq \"a@b.c\"]",
            "not (userName eq \"x\")",
            "name.familyName eq \"x\"",
        ] {
            assert!(!one(many), "{many}");
        }
    }

    #[test]
    fn an_element_filter_is_a_list_of_the_owners_of_matching_elements() {
        let (text, _) = sql(Kind::User, "emails[value eq \"a@b.c\"]").unwrap();
        assert_eq!(
            text,
            "u.id IN (SELECT e.user_id FROM user_emails e WHERE e.value_lower = $2)"
        );
        let (text, _) = sql(Kind::User, "emails.value ne \"a@b.c\"").unwrap();
        assert_eq!(
            text,
            "NOT (u.id IN (SELECT e.user_id FROM user_emails e WHERE e.value_lower = $2))"
        );
        let (text, _) = sql(Kind::Group, "members[value eq \"u1\"]").unwrap();
        assert_eq!(
            text,
            "g.id IN (SELECT m.group_id FROM group_members m WHERE m.user_id = $2)"
        );
    }

    #[test]
    fn unindexed_attributes_are_an_invalid_filter() {
        let err = sql(Kind::User, "title eq \"x\"").unwrap_err();
        assert!(matches!(err, ScimError::InvalidFilter(_)));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        let (text, args) = sql(Kind::Group, "displayName co \"a_%\"").unwrap();
        assert!(text.contains("LIKE $2 ESCAPE"));
        assert_eq!(args[1], Arg::Text("%a\\_\\%%".into()));
    }

    /// On SQLite `co` and `ew` are `GLOB`s (exact in case, as PostgreSQL's `LIKE`), with GLOB's
    /// wildcards in the value taken literally; case-insensitive attributes still compare the
    /// lower-cased column with the lower-cased value.
    #[test]
    fn sqlite_patterns_are_globs_with_their_wildcards_bracketed() {
        let glob = |f: &str| sql_for(Backend::Sqlite, Kind::User, f).unwrap();
        let (text, args) = glob("externalId co \"AB*?[c%_\"");
        assert_eq!(text, "s.external_id GLOB $2");
        assert_eq!(args[1], Arg::Text("*AB[*][?][[]c%_*".into()));
        let (text, _) = glob("externalId ew \"AB\"");
        assert_eq!(text, "s.external_id GLOB $2");
        let (text, args) = glob("userName co \"JD\"");
        assert_eq!(text, "u.username_lower GLOB $2");
        assert_eq!(args[1], Arg::Text("*jd*".into()));
        let (text, args) = glob("emails.value ew \"@Example.COM\"");
        assert_eq!(
            text,
            "u.id IN (SELECT e.user_id FROM user_emails e WHERE e.value_lower GLOB $2)"
        );
        assert_eq!(args[1], Arg::Text("*@example.com".into()));
    }

    /// `sw` is the range of the texts that start with the prefix, wildcards and all taken as
    /// they are, bytewise on PostgreSQL whatever the column's collation.
    #[test]
    fn a_prefix_is_a_range_of_the_column() {
        let (text, args) =
            sql_for(Backend::Sqlite, Kind::User, "externalId sw \"AB*?[c%_\"").unwrap();
        assert_eq!(text, "(s.external_id >= $2 AND s.external_id < $3)");
        assert_eq!(args[1], Arg::Text("AB*?[c%_".into()));
        assert_eq!(args[2], Arg::Text("AB*?[c%`".into()));
        let (text, args) = sql(Kind::User, "userName sw \"JD\"").unwrap();
        assert_eq!(
            text,
            "(u.username_lower COLLATE \"C\" >= $2 AND u.username_lower COLLATE \"C\" < $3)"
        );
        assert_eq!(args[1..], [Arg::Text("jd".into()), Arg::Text("je".into())]);
        let (text, _) = sql(Kind::User, "emails sw \"a\"").unwrap();
        assert_eq!(
            text,
            "u.id IN (SELECT e.user_id FROM user_emails e WHERE \
             (e.value_lower COLLATE \"C\" >= $2 AND e.value_lower COLLATE \"C\" < $3))"
        );
        // Nothing comes after every text starting with U+10FFFF: a lower bound alone.
        let (text, args) = sql_for(
            Backend::Sqlite,
            Kind::Group,
            "displayName sw \"\u{10FFFF}\"",
        )
        .unwrap();
        assert_eq!(text, "g.display_name_lower >= $2");
        assert_eq!(args.len(), 2);
    }

    #[test]
    fn the_end_of_a_prefix_is_its_last_character_that_has_a_next_one_moved_on() {
        let end = |p: &str| after_all_starting_with(p);
        assert_eq!(end("ab").as_deref(), Some("ac"));
        assert_eq!(end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(end("a\u{10FFFF}\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(end("é").as_deref(), Some("ê"));
        assert_eq!(end("\u{10FFFF}"), None);
        assert_eq!(end(""), None);
    }

    proptest::proptest! {
        /// In code point order, which is UTF-8's byte order and so both databases' order of these
        /// columns, a text starts with a prefix exactly when it lies in the prefix's range.
        #[test]
        fn a_text_starts_with_a_prefix_exactly_when_it_lies_in_its_range(
            prefix in "[ab\u{D7FF}\u{E000}\u{10FFFF}é]{0,4}",
            text in "[ab\u{D7FF}\u{E000}\u{10FFFF}é]{0,6}",
        ) {
            let in_range = text.as_str() >= prefix.as_str()
                && after_all_starting_with(&prefix).is_none_or(|end| text < end);
            proptest::prop_assert_eq!(text.starts_with(&prefix), in_range, "{:?} {:?}", text, prefix);
        }
    }

    #[test]
    fn a_filter_only_on_active_is_answered_by_the_access_rows() {
        let only = |f: &str| only_access(&Filter::parse(f).unwrap());
        for access in [
            "active eq true",
            "active eq false or not (active pr)",
            "urn:ietf:params:scim:schemas:core:2.0:User:active eq true",
        ] {
            assert!(only(access), "{access}");
        }
        for users in [
            "active eq true and userName eq \"ada\"",
            "active eq true or emails[value eq \"a@b.c\"]",
            "not (displayName pr)",
        ] {
            assert!(!only(users), "{users}");
        }
    }

    #[test]
    fn a_filter_on_groups_seeks_its_external_id_or_its_member_unless_it_names_one_group() {
        let seeks = |f: &str| seeks_groups(&Filter::parse(f).unwrap());
        for (text, seek) in [
            ("externalId eq \"e1\"", Some(GroupSeek::ExternalId)),
            ("members eq \"u1\"", Some(GroupSeek::Member)),
            ("members.value eq \"u1\"", Some(GroupSeek::Member)),
            ("members[value eq \"u1\"]", Some(GroupSeek::Member)),
            (
                "members[value eq \"u1\"] and externalId eq \"e1\"",
                Some(GroupSeek::ExternalId),
            ),
            (
                "externalId eq \"e1\" and members eq \"u1\"",
                Some(GroupSeek::ExternalId),
            ),
            ("id eq \"g1\" and members[value eq \"u1\"]", None),
            ("displayName eq \"Ops\" and externalId eq \"e1\"", None),
            ("externalId eq null", None),
            ("externalId ne \"e1\"", None),
            ("members[value ne \"u1\"]", None),
            ("externalId eq \"e1\" or displayName sw \"o\"", None),
            ("meta.lastModified gt \"2026-01-01T00:00:00Z\"", None),
        ] {
            assert_eq!(seeks(text), seek, "{text}");
        }
    }

    #[test]
    fn a_filter_seeks_users_by_their_own_index_unless_another_finds_them() {
        let seeks = |f: &str| seeks_users(&Filter::parse(f).unwrap());
        for by_users in [
            "displayName eq \"Ada\"",
            "userName sw \"ad\"",
            "meta.lastModified gt \"2026-01-01T00:00:00Z\"",
            "meta.lastModified le \"2026-01-01T00:00:00Z\" and active eq true",
            "active eq true and id eq \"x\"",
        ] {
            assert!(seeks(by_users), "{by_users}");
        }
        for not_by_users in [
            "active eq true",
            "meta.created gt \"2026-01-01T00:00:00Z\"",
            "userName co \"ad\"",
            "displayName ne \"Ada\"",
            "displayName eq null",
            "externalId eq \"x\"",
            "displayName eq \"Ada\" and externalId eq \"x\"",
            "displayName eq \"Ada\" or active eq true",
            "emails.value eq \"a@b.c\"",
            "not (displayName eq \"Ada\")",
        ] {
            assert!(!seeks(not_by_users), "{not_by_users}");
        }
    }
}
