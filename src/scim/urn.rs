//! The SCIM names every other SCIM module needs: schema and message URNs and the media type, as named
//! constants on the floor below everything else in `scim/` (as kanidm does), plus splitting a known
//! schema URN off the front of an attribute path.

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SERVICE_PROVIDER_CONFIG_URN: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The SCIM media type (RFC 7644 §8.1); `application/json` must be accepted too.
pub const CONTENT_TYPE: &str = "application/scim+json";

/// The schemas Roster serves (the registry's `schemas`, checked by a test in `schema.rs`).
pub const SCHEMA_URNS: [&str; 3] = [USER_URN, ENTERPRISE_USER_URN, GROUP_URN];

/// Splits `text` into a known schema URN and the rest, if it starts with one followed by `:` — or is one.
/// Returns `(urn, rest)` where `rest` is empty for a bare URN. The longest matching URN wins.
pub fn split_schema_urn(text: &str) -> Option<(&'static str, &str)> {
    let mut best: Option<(&'static str, &str)> = None;
    for id in SCHEMA_URNS {
        let n = id.len();
        if text.len() >= n && text.is_char_boundary(n) && text[..n].eq_ignore_ascii_case(id) {
            let rest = &text[n..];
            let rest = if rest.is_empty() {
                Some(rest)
            } else {
                rest.strip_prefix(':')
            };
            if let Some(rest) = rest {
                if best.is_none_or(|(b, _)| b.len() < n) {
                    best = Some((id, rest));
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_schema_urn_finds_the_longest_known_schema_prefix() {
        assert_eq!(
            split_schema_urn(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
            ),
            Some((ENTERPRISE_USER_URN, "manager.value"))
        );
        assert_eq!(
            split_schema_urn(ENTERPRISE_USER_URN),
            Some((ENTERPRISE_USER_URN, ""))
        );
        assert_eq!(
            split_schema_urn("urn:ietf:params:scim:schemas:core:2.0:UserX"),
            None
        );
    }
}
