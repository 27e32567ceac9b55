//! Tests for list responses, list/search parameters, body validation and rendering.

use serde_json::json;

use super::*;
use crate::scim::urn::ENTERPRISE_USER_URN;

fn rt_user() -> &'static ResourceTypeDef {
    registry().user()
}

#[test]
fn list_response_uses_integer_counts_and_exactly_resources() {
    let text = ListPage::of_values(vec![json!({"id": "1"}), json!({"id": "2"})], 7)
        .into_response(0)
        .into_string();
    let body: Value = serde_json::from_str(&text).expect("a ListResponse is JSON");
    assert_eq!(
        body,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 7,
            "startIndex": 1,
            "itemsPerPage": 2,
            "Resources": [{"id": "1"}, {"id": "2"}],
        })
    );
}

/// A resource that cannot be written as text leaves the page as it was (no comma, no count), and
/// the resources written around it are the page's, in order.
#[test]
fn a_resource_not_written_leaves_the_page_as_it_was() {
    let mut page = ListPage::new(3);
    assert!(!page.try_push_with(|out| {
        assert!(out.text_mut().is_empty(), "nothing before the first");
        false
    }));
    assert!(page.try_push_with(|out| {
        out.push_str(r#"{"id":"1"}"#);
        true
    }));
    assert!(!page.try_push_with(|_| false));
    page.push(r#"{"id":"3"}"#);
    assert_eq!(page.len(), 2);
    let text = page.into_response(0).into_string();
    let body: Value = serde_json::from_str(&text).expect("a ListResponse is JSON");
    assert_eq!(body["Resources"], json!([{"id": "1"}, {"id": "3"}]));
    assert_eq!(body["itemsPerPage"], 2);
}

fn to_text_with(resource: &Value, key: &str, value_json: &str) -> String {
    let mut text = JsonText::default();
    push_text_with(&mut text, resource, key, |out| out.push_str(value_json));
    text.into_string()
}

#[test]
fn a_member_written_as_text_is_spliced_into_the_object() {
    let refs = r#"[{"value":"g1","display":"Ops \"A\""}]"#;
    let text = to_text_with(&json!({"id": "1", "userName": "a"}), "groups", refs);
    let back: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(
        back,
        json!({"id": "1", "userName": "a", "groups": [{"value": "g1", "display": "Ops \"A\""}]})
    );
    let lone: Value =
        serde_json::from_str(&to_text_with(&json!({}), "groups", "[]")).expect("JSON");
    assert_eq!(lone, json!({"groups": []}));
}

#[test]
fn list_query_reads_query_pairs_case_insensitively_and_clamps_paging() {
    let q = ListQuery::from_pairs([
        ("filter", r#"userName eq "jdoe""#),
        ("startIndex", "0"),
        ("COUNT", "-5"),
        ("excludedAttributes", "members, meta"),
        ("sortOrder", "descending"),
    ])
    .expect("parses");
    assert!(q.filter.is_some());
    assert_eq!(q.start_index, 1);
    assert_eq!(q.count, Some(0));
    assert_eq!(q.excluded_attributes, vec!["members", "meta"]);
    assert_eq!(q.sort_order, SortOrder::Descending);
    assert!(matches!(
        ListQuery::from_pairs([("filter", "userName eq")]),
        Err(ScimError::InvalidFilter(_))
    ));
    assert!(matches!(
        ListQuery::from_pairs([("count", "ten")]),
        Err(ScimError::InvalidValue(_))
    ));
}

#[test]
fn a_search_body_accepts_attribute_arrays() {
    let q = ListQuery::from_search_body(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "attributes": ["displayName", "userName"],
        "filter": "displayName sw \"smith\"",
        "startIndex": 1,
        "count": 10
    }))
    .expect("parses");
    assert_eq!(q.attributes, vec!["displayName", "userName"]);
    assert_eq!(q.count, Some(10));
}

#[test]
fn a_user_without_user_name_is_invalid_value() {
    for body in [
        json!({"displayName": "x"}),
        json!({"userName": "  "}),
        json!({"userName": null}),
    ] {
        assert!(
            matches!(
                validate_resource(rt_user(), &body, Intent::Create),
                Err(ScimError::InvalidValue(_))
            ),
            "{body}"
        );
    }
    assert!(matches!(
        validate_resource(registry().group(), &json!({"members": []}), Intent::Create),
        Err(ScimError::InvalidValue(_))
    ));
}

#[test]
fn validation_canonicalises_names_coerces_booleans_and_drops_read_only_attributes() {
    let v = validate_resource(
        rt_user(),
        &json!({
            "USERNAME": "jdoe",
            "Active": "True",
            "id": "client-chosen",
            "meta": {"resourceType": "User"},
            "groups": [{"value": "g"}],
            "emails": [{"Value": "a@b.c", "Primary": "true"}],
            "password": "s3cret"
        }),
        Intent::Create,
    )
    .expect("valid");
    assert_eq!(
        v,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "jdoe",
            "active": true,
            "emails": [{"value": "a@b.c", "primary": true}],
            "password": "s3cret"
        })
    );
}

#[test]
fn unknown_schema_urns_and_attributes_are_accepted_and_ignored() {
    let v = validate_resource(
        registry().group(),
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "displayName": "Eng",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group": {"x": 1},
            "shoeSize": 42
        }),
        Intent::Create,
    )
    .expect("valid");
    assert_eq!(
        v,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"})
    );
}

#[test]
fn wrong_types_are_invalid_value_naming_the_attribute() {
    match validate_resource(
        rt_user(),
        &json!({"userName": "x", "name": {"givenName": true}}),
        Intent::Create,
    ) {
        Err(ScimError::InvalidValue(d)) => assert!(d.contains("name.givenName"), "{d}"),
        other => panic!("{other:?}"),
    }
    assert!(validate_resource(
        rt_user(),
        &json!({"userName": "x", "active": "maybe"}),
        Intent::Create
    )
    .is_err());
    assert!(validate_resource(rt_user(), &json!("a string"), Intent::Create).is_err());
}

#[test]
fn extension_attributes_are_kept_under_their_urn() {
    let v = validate_resource(
        rt_user(),
        &json!({"userName": "x", ENTERPRISE_USER_URN: {"EmployeeNumber": 17, "manager": "boss", "bogus": 1}}),
        Intent::Create,
    )
    .expect("valid");
    assert_eq!(
        v[ENTERPRISE_USER_URN],
        json!({"employeeNumber": "17", "manager": {"value": "boss"}})
    );
    assert_eq!(v["schemas"][1], ENTERPRISE_USER_URN);
}

#[test]
fn more_than_one_primary_keeps_the_first() {
    let v = validate_resource(
        rt_user(),
        &json!({"userName": "x", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}),
        Intent::Create,
    )
    .expect("valid");
    assert_eq!(v["emails"][1]["primary"], false);
}

/// A PUT of a User or a Group has no immutable attribute to compare at the top level: the stored
/// resource is not rendered for it.
#[test]
fn replace_renders_the_stored_resource_only_for_immutable_attributes() {
    let never = || -> Value { panic!("the stored resource was rendered") };
    let replace = Intent::Replace { existing: &never };
    let user = json!({"userName": "y", "name": {"givenName": "Y"}, "active": false});
    assert!(validate_resource(rt_user(), &user, replace).is_ok());
    let group = json!({"displayName": "G", "members": [{"value": "u1"}]});
    assert!(validate_resource(registry().group(), &group, replace).is_ok());
}

#[test]
fn replace_keeps_immutable_rules() {
    let existing = || json!({"userName": "x"});
    assert!(validate_resource(
        rt_user(),
        &json!({"userName": "y"}),
        Intent::Replace {
            existing: &existing
        }
    )
    .is_ok());
}

#[test]
fn rendering_never_returns_password_and_renders_empty_lists_as_arrays() {
    let out = render(
        rt_user(),
        json!({"id": "1", "userName": "x", "password": "p", "nickName": null}),
    );
    assert!(out.get("password").is_none());
    assert!(out.get("nickName").is_none());
    for list in [
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "groups",
        "entitlements",
        "roles",
        "x509Certificates",
    ] {
        assert_eq!(out[list], json!([]), "{list}");
    }
    let g = render(registry().group(), json!({"id": "g", "displayName": "G"}));
    assert_eq!(g["members"], json!([]));
    assert_eq!(
        g["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
    );
}

#[test]
fn meta_formats_rfc_3339_times_and_a_weak_etag() {
    let t = "2011-05-13T04:42:34Z";
    let m = meta("User", t, t, "https://h/Users/1", Some("3"));
    assert_eq!(m["created"], "2011-05-13T04:42:34Z");
    assert_eq!(m["version"], "W/\"3\"");
}

#[test]
fn meta_written_as_text_is_the_meta_value() {
    for (location, version) in [
        (&["https://h/scim/v2", "/Users/", "u1"][..], Some("3-7-ab")),
        (&["https://h/p\"q\\r\u{1}", "/Users/", "ü"][..], None),
        (&["https://h", "/Users/", "x"][..], Some("a\"b")),
    ] {
        let mut text = String::from("[");
        push_meta_text(
            &mut text,
            "User",
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:15:23.45Z",
            location,
            version,
        );
        let text = &text[1..];
        let parsed: Value = serde_json::from_str(text).expect("valid JSON");
        let value = meta(
            "User",
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:15:23.45Z",
            &location.concat(),
            version,
        );
        assert_eq!(parsed, value);
        assert_eq!(text, json_text(&value), "the same text, member for member");
    }
}

/// What the stored profiles were written as before `object_text_without`: a copy of the object
/// with the members removed, serialized.
fn copied_and_removed(value: &Value, without: &[&str]) -> String {
    let mut obj = value.as_object().cloned().unwrap_or_default();
    for k in without {
        obj.remove(*k);
    }
    Value::Object(obj).to_string()
}

#[test]
fn an_object_is_written_without_the_named_members_as_a_trimmed_copy_would_be() {
    let without = ["id", "meta", "userName", "password"];
    let values = [
        json!({}),
        json!({"id": "x", "meta": {"a": 1}}),
        json!({"userName": "ann", "Password": "kept: names are exact", "password": "gone",
               "name": {"givenName": "Ann \"A\" \\ é \u{1}"}, "emails": [{"value": "a@x", "primary": true}],
               "n": -1.5e3, "z": null, "quoted \"key\"": 1, "ключ": "значение"}),
        json!("not an object"),
        json!([1, 2]),
    ];
    for value in values {
        let expected = if value.is_object() {
            copied_and_removed(&value, &without)
        } else {
            "{}".to_string()
        };
        assert_eq!(object_text_without(&value, &without), expected, "{value}");
    }
}

mod trimmed {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::{copied_and_removed, object_text_without};

    proptest! {
    #[test]
    fn any_object_is_written_as_the_trimmed_copy(
        object in proptest::collection::btree_map(
            "(id|meta|userName|[a-zA-Z\"\\\\é\u{1} ]{0,6})",
            prop_oneof![
                any::<i64>().prop_map(Value::from),
                any::<String>().prop_map(Value::from),
                any::<bool>().prop_map(Value::from),
            ],
            0..10,
        ),
    ) {
        let value = Value::Object(object.into_iter().collect());
        let without = ["id", "meta", "userName"];
        prop_assert_eq!(
            object_text_without(&value, &without),
            copied_and_removed(&value, &without)
        );
    }
    }
}

#[test]
fn repeated_elements_merge_into_the_first_they_repeat_whatever_their_number() {
    let user = rt_user();
    let emails = registry()
        .schema(user.schema)
        .unwrap()
        .attr("emails")
        .unwrap();
    let body = json!({"schemas": [user.schema], "userName": "a", "emails": [
        {"value": "A@example.com", "type": "work"},
        {"value": "a@example.com", "type": "home"},
        {"value": "a@EXAMPLE.com", "primary": true},
        {"value": "b@example.com"},
        {"value": "b@example.com", "type": "work", "display": "B"},
        {"value": "a@example.com", "type": "home", "display": "home"},
    ]});
    let v = validate_resource(user, &body, Intent::Create).unwrap();
    assert_eq!(
        v["emails"],
        json!([
            // No type matches the first element with the value; a type matches its own.
            {"value": "a@EXAMPLE.com", "type": "work", "primary": true},
            {"value": "a@example.com", "type": "home", "display": "home"},
            {"value": "b@example.com", "type": "work", "display": "B"},
        ])
    );
    // Elements without a `value` (addresses) merge when equal.
    let body = json!({"schemas": [user.schema], "userName": "a", "addresses": [
        {"locality": "X", "type": "work"}, {"locality": "Y"}, {"locality": "X", "type": "work"},
    ]});
    let v = validate_resource(user, &body, Intent::Create).unwrap();
    assert_eq!(
        v["addresses"],
        json!([{"locality": "X", "type": "work"}, {"locality": "Y"}])
    );
    // Many: every distinct one kept in order, each repeat merged.
    let many: Vec<Value> = (0..5000)
        .map(|i| json!({"value": format!("u{}@example.com", i % 2500), "type": "work"}))
        .collect();
    let mut elements = Elements::new(emails, Vec::new());
    for item in many {
        elements.merge(item);
    }
    let items = elements.into_items();
    assert_eq!(items.len(), 2500);
    assert_eq!(items[2499]["value"], "u2499@example.com");
}
