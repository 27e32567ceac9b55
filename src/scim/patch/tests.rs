//! PATCH engine tests: one per rule of RFC 7644 §3.5.2 and per IdP quirk, plus properties.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::scim::schema::registry;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user() -> Value {
    serde_json::from_str(include_str!("../fixtures/rfc7643_user_full.json")).expect("fixture")
}

fn group() -> Value {
    serde_json::from_str(include_str!("../fixtures/rfc7643_group.json")).expect("fixture")
}

fn ops(list: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list})
}

fn patch_user(resource: &Value, list: Value) -> Result<PatchOutcome, ScimError> {
    apply_patch_body(registry().user(), resource, &ops(list))
}

fn patch_group(resource: &Value, list: Value) -> Result<PatchOutcome, ScimError> {
    apply_patch_body(registry().group(), resource, &ops(list))
}

fn ok_user(list: Value) -> PatchOutcome {
    patch_user(&user(), list).unwrap_or_else(|e| panic!("{e}"))
}

fn member_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

#[test]
fn op_names_are_case_insensitive() {
    for op in ["replace", "Replace", "REPLACE"] {
        let out = ok_user(json!([{"op": op, "path": "nickName", "value": "B"}]));
        assert_eq!(out.resource["nickName"], "B");
    }
}

#[test]
fn an_unknown_op_is_invalid_syntax() {
    assert!(matches!(
        patch_user(&user(), json!([{"op": "merge", "path": "x", "value": 1}])),
        Err(ScimError::InvalidSyntax(_))
    ));
}

#[test]
fn a_body_without_operations_is_invalid_syntax() {
    assert!(matches!(
        apply_patch_body(registry().user(), &user(), &json!({})),
        Err(ScimError::InvalidSyntax(_))
    ));
    assert!(matches!(
        patch_user(&user(), json!([])),
        Err(ScimError::InvalidSyntax(_))
    ));
}

#[test]
fn remove_without_a_path_is_no_target_but_a_bad_path_is_invalid_path() {
    assert!(matches!(
        patch_user(&user(), json!([{"op": "remove"}])),
        Err(ScimError::NoTarget(_))
    ));
    assert!(matches!(
        patch_user(&user(), json!([{"op": "remove", "path": "emails[type eq"}])),
        Err(ScimError::InvalidPath(_))
    ));
    assert!(matches!(
        patch_user(&user(), json!([{"op": "remove", "path": "shoeSize"}])),
        Err(ScimError::InvalidPath(_))
    ));
}

#[test]
fn add_with_a_sub_attribute_path_sets_it() {
    let out = ok_user(json!([{"op": "add", "path": "name.middleName", "value": "J"}]));
    assert_eq!(out.resource["name"]["middleName"], "J");
    assert_eq!(out.resource["name"]["givenName"], "Barbara");
    assert_eq!(out.changed, vec!["name"]);
}

#[test]
fn add_to_a_multi_valued_attribute_appends_without_duplicating() {
    let out = ok_user(json!([{"op": "add", "path": "emails", "value": [
        {"value": "new@example.com", "type": "other"},
        {"value": "BJENSEN@example.com", "type": "work"}
    ]}]));
    let emails = out.resource["emails"].as_array().expect("emails");
    assert_eq!(emails.len(), 3);
    assert_eq!(emails[2]["value"], "new@example.com");
}

#[test]
fn setting_primary_on_one_value_clears_it_on_the_others() {
    let out = ok_user(
        json!([{"op": "add", "path": "emails", "value": [{"value": "new@example.com", "type": "other", "primary": true}]}]),
    );
    let primaries: Vec<&Value> = out.resource["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .filter(|e| e["primary"] == true)
        .collect();
    assert_eq!(primaries.len(), 1);
    assert_eq!(primaries[0]["value"], "new@example.com");
    let out = ok_user(
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
    );
    let emails = out.resource["emails"].as_array().expect("emails");
    assert_eq!(emails[0]["primary"], false);
    assert_eq!(emails[1]["primary"], true);
}

#[test]
fn replace_of_a_multi_valued_attribute_replaces_all_values() {
    let out = ok_user(
        json!([{"op": "replace", "path": "emails", "value": [{"value": "only@example.com"}]}]),
    );
    assert_eq!(
        out.resource["emails"],
        json!([{"value": "only@example.com"}])
    );
}

#[test]
fn replace_with_an_unmatched_filter_is_no_target() {
    let e = patch_user(
        &user(),
        json!([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]),
    );
    assert!(matches!(e, Err(ScimError::NoTarget(_))), "{e:?}");
}

#[test]
fn remove_with_an_unmatched_filter_is_a_no_op() {
    let out = ok_user(json!([{"op": "remove", "path": "emails[type eq \"fax\"]"}]));
    assert_eq!(out.resource["emails"], user()["emails"]);
    assert!(out.changed.is_empty());
}

#[test]
fn remove_with_a_filter_removes_only_the_matching_values() {
    let out = ok_user(
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    );
    assert_eq!(
        out.resource["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
    assert_eq!(out.changed, vec!["emails"]);
}

#[test]
fn removing_the_last_value_leaves_the_attribute_unassigned() {
    let out = ok_user(json!([{"op": "remove", "path": "ims[type eq \"aim\"]"}]));
    assert!(out.resource.get("ims").is_none());
}

#[test]
fn removing_a_required_or_read_only_attribute_is_mutability() {
    for path in [
        "userName",
        "id",
        "meta",
        "meta.created",
        "groups",
        "USERNAME",
    ] {
        let e = patch_user(&user(), json!([{"op": "remove", "path": path}]));
        assert!(matches!(e, Err(ScimError::Mutability(_))), "{path}: {e:?}");
    }
    assert!(matches!(
        patch_user(
            &user(),
            json!([{"op": "replace", "path": "id", "value": "x"}])
        ),
        Err(ScimError::Mutability(_))
    ));
    assert!(matches!(
        patch_group(&group(), json!([{"op": "remove", "path": "displayName"}])),
        Err(ScimError::Mutability(_))
    ));
    assert!(matches!(
        patch_user(
            &user(),
            json!([{"op": "replace", "path": "userName", "value": null}])
        ),
        Err(ScimError::Mutability(_))
    ));
}

#[test]
fn replacing_user_name_with_blank_text_is_invalid_value() {
    assert!(matches!(
        patch_user(
            &user(),
            json!([{"op": "replace", "path": "userName", "value": "  "}])
        ),
        Err(ScimError::InvalidValue(_))
    ));
}

#[test]
fn a_failing_operation_leaves_the_resource_untouched() {
    let before = user();
    let e = patch_user(
        &before,
        json!([
            {"op": "replace", "path": "nickName", "value": "changed"},
            {"op": "remove", "path": "userName"}
        ]),
    );
    assert!(e.is_err());
    assert_eq!(before, user());
}

#[test]
fn errors_name_the_operation_that_failed() {
    let e = patch_user(
        &user(),
        json!([
            {"op": "replace", "path": "nickName", "value": "ok"},
            {"op": "replace", "path": "active", "value": "maybe"}
        ]),
    );
    match e {
        Err(ScimError::InvalidValue(d)) => assert!(d.starts_with("operation 2:"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn boolean_strings_are_coerced_for_boolean_attributes() {
    let out = ok_user(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    assert_eq!(out.resource["active"], false);
    let out = ok_user(json!([{"op": "replace", "value": {"active": "TRUE"}}]));
    assert_eq!(out.resource["active"], true);
}

#[test]
fn path_less_add_merges_each_attribute() {
    let out = ok_user(
        json!([{"op": "add", "value": {"nickname": "Bee", "emails": [{"value": "x@y.z", "type": "home"}]}}]),
    );
    assert_eq!(out.resource["nickName"], "Bee");
    assert_eq!(out.resource["emails"].as_array().map(Vec::len), Some(3));
    assert_eq!(out.changed, vec!["emails", "nickName"]);
}

#[test]
fn path_less_replace_accepts_keys_that_are_paths() {
    let out = ok_user(json!([{"op": "replace", "value": {
        "name.givenName": "Barb",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
        "emails[type eq \"work\"].value": "barb@example.com"
    }}]));
    assert_eq!(out.resource["name"]["givenName"], "Barb");
    assert_eq!(out.resource["name"]["familyName"], "Jensen");
    assert_eq!(out.resource[ENT]["employeeNumber"], "42");
    assert_eq!(out.resource["emails"][0]["value"], "barb@example.com");
    assert!(out.resource["schemas"]
        .as_array()
        .is_some_and(|s| s.contains(&json!(ENT))));
    assert_eq!(
        out.changed,
        vec![
            "emails".to_string(),
            "name".into(),
            format!("{ENT}:employeeNumber")
        ]
    );
}

#[test]
fn path_less_replace_ignores_id_schemas_and_meta_like_okta_and_authentik_send() {
    let out = patch_group(&group(), json!([{"op": "replace", "value": {
        "id": "someone-elses-id", "displayName": "Renamed", "schemas": ["x"], "meta": {"created": "x"}
    }}]))
    .expect("applies");
    assert_eq!(out.resource["id"], group()["id"]);
    assert_eq!(out.resource["displayName"], "Renamed");
    assert_eq!(out.changed, vec!["displayName"]);
    assert!(out.members.is_none());
}

#[test]
fn a_replace_that_omits_members_never_empties_a_group() {
    let out = patch_group(
        &group(),
        json!([{"op": "replace", "value": {"displayName": "X"}}]),
    )
    .expect("applies");
    assert_eq!(member_ids(&out.resource).len(), 2);
}

#[test]
fn an_extension_attribute_is_added_under_its_urn_and_the_urn_joins_schemas() {
    let out = ok_user(
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Ops"}]),
    );
    assert_eq!(out.resource[ENT], json!({"department": "Ops"}));
    assert_eq!(
        out.resource["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT])
    );
    let out = patch_user(
        &out.resource,
        json!([{"op": "remove", "path": format!("{ENT}:department")}]),
    )
    .expect("removes");
    assert!(out.resource.get(ENT).is_none());
    assert_eq!(
        out.resource["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

#[test]
fn a_bare_extension_urn_path_takes_an_object_of_its_attributes() {
    let out = ok_user(
        json!([{"op": "add", "path": ENT, "value": {"costCenter": "4130", "manager": {"value": "m-1"}}}]),
    );
    assert_eq!(
        out.resource[ENT],
        json!({"costCenter": "4130", "manager": {"value": "m-1"}})
    );
}

#[test]
fn entra_manager_as_a_bare_id_becomes_a_manager_object() {
    let out = ok_user(json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "boss-id"}]));
    assert_eq!(out.resource[ENT]["manager"], json!({"value": "boss-id"}));
    let out = ok_user(
        json!([{"op": "Replace", "path": format!("{ENT}:manager.value"), "value": "boss-2"}]),
    );
    assert_eq!(out.resource[ENT]["manager"], json!({"value": "boss-2"}));
}

#[test]
fn add_on_an_unmatched_filtered_path_creates_the_element() {
    let out = ok_user(
        json!([{"op": "Add", "path": "phoneNumbers[type eq \"fax\"].value", "value": "+1 555 0100"}]),
    );
    let phones = out.resource["phoneNumbers"].as_array().expect("phones");
    assert_eq!(phones.len(), 3);
    assert_eq!(phones[2], json!({"type": "fax", "value": "+1 555 0100"}));
    let e = patch_user(
        &user(),
        json!([{"op": "add", "path": "phoneNumbers[type ne \"fax\" or value pr].value", "value": "1"}]),
    );
    assert!(e.is_ok(), "existing values match the `ne`");
    let e = patch_user(
        &json!({"userName": "x"}),
        json!([{"op": "add", "path": "phoneNumbers[type sw \"f\"].value", "value": "1"}]),
    );
    assert!(matches!(e, Err(ScimError::NoTarget(_))));
}

#[test]
fn add_on_a_matched_filtered_path_updates_the_matches() {
    let out = ok_user(
        json!([{"op": "add", "path": "emails[type eq \"home\"].display", "value": "Home"}]),
    );
    assert_eq!(out.resource["emails"][1]["display"], "Home");
}

#[test]
fn whitespace_only_name_parts_are_accepted() {
    let out = ok_user(json!([{"op": "replace", "path": "name.familyName", "value": " "}]));
    assert_eq!(out.resource["name"]["familyName"], " ");
}

#[test]
fn attributes_of_unknown_schemas_are_ignored() {
    let out = ok_user(json!([
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User:badge", "value": "7"},
        {"op": "replace", "value": {"urn:example:other": {"x": 1}, "shoeSize": 42}}
    ]));
    assert_eq!(out.resource, {
        let mut u = user();
        crate::scim::resource::set_schemas(registry().user(), &mut u);
        u
    });
    assert!(out.changed.is_empty());
}

#[test]
fn sub_attribute_of_every_value_without_a_filter() {
    let out = ok_user(json!([{"op": "remove", "path": "emails.type"}]));
    assert!(out.resource["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .all(|e| e.get("type").is_none()));
}

#[test]
fn a_value_filter_on_a_single_valued_attribute_is_invalid_path() {
    assert!(matches!(
        patch_user(
            &user(),
            json!([{"op": "replace", "path": "name[givenName eq \"B\"].familyName", "value": "x"}])
        ),
        Err(ScimError::InvalidPath(_))
    ));
    assert!(matches!(
        patch_user(
            &user(),
            json!([{"op": "replace", "path": "emails[kind eq \"B\"].value", "value": "x"}])
        ),
        Err(ScimError::InvalidPath(_))
    ));
}

#[test]
fn password_is_accepted_by_patch() {
    let out = ok_user(json!([{"op": "replace", "path": "password", "value": "n3w"}]));
    assert_eq!(out.resource["password"], "n3w");
    assert_eq!(out.changed, vec!["password"]);
}

#[test]
fn type_mismatches_are_invalid_value() {
    for (path, value) in [
        ("active", json!("yes")),
        ("name", json!(5)),
        ("emails", json!([true])),
        ("nickName", json!({"a": 1})),
    ] {
        let e = patch_user(
            &user(),
            json!([{"op": "replace", "path": path, "value": value}]),
        );
        assert!(
            matches!(e, Err(ScimError::InvalidValue(_))),
            "{path}: {e:?}"
        );
    }
}

#[test]
fn too_many_operations_is_too_many() {
    let list: Vec<Value> = (0..=MAX_OPERATIONS)
        .map(|_| json!({"op": "add", "path": "nickName", "value": "x"}))
        .collect();
    assert!(matches!(
        patch_user(&user(), Value::Array(list)),
        Err(ScimError::TooMany(_))
    ));
}

// ---- Group members ------------------------------------------------------------------------------------------

#[test]
fn removing_members_with_a_value_list_removes_exactly_those() {
    let out = patch_group(&group(), json!([{"op": "remove", "path": "members", "value": [{"value": "2819c223-7f76-453a-919d-413861904646"}]}]))
        .expect("applies");
    assert_eq!(
        member_ids(&out.resource),
        vec!["902c246b-6245-4190-8e05-00816be7344a"]
    );
    assert_eq!(
        out.members,
        Some(MemberDelta::Changes {
            added: vec![],
            removed: vec!["2819c223-7f76-453a-919d-413861904646".into()]
        })
    );
}

#[test]
fn removing_members_without_a_value_removes_all() {
    let out = patch_group(&group(), json!([{"op": "remove", "path": "members"}])).expect("applies");
    assert!(member_ids(&out.resource).is_empty());
}

#[test]
fn adding_an_existing_member_changes_nothing() {
    let out = patch_group(&group(), json!([{"op": "add", "path": "members", "value": [{"value": "902c246b-6245-4190-8e05-00816be7344a"}]}]))
        .expect("applies");
    assert!(out.members.is_none());
    assert!(out.changed.is_empty());
}

fn parsed(list: Value) -> Vec<PatchOperation> {
    parse_patch_request(&ops(list)).expect("parses")
}

#[test]
fn member_ops_plan_into_a_delta_without_loading_members() {
    let plan = plan_member_ops(&parsed(json!([
        {"op": "remove", "path": "members[value eq \"u-old\"]"},
        {"op": "add", "path": "members", "value": [{"value": "u-new", "display": "New"}]},
        {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u-gone"}]},
        {"op": "replace", "path": "displayName", "value": "Renamed"}
    ])))
    .expect("plans");
    let MemberPlan::Delta { delta, rest } = plan else {
        panic!("delta expected")
    };
    assert_eq!(
        delta,
        Some(MemberDelta::Changes {
            added: vec!["u-new".into()],
            removed: vec!["u-gone".into(), "u-old".into()]
        })
    );
    assert_eq!(rest.len(), 1);
}

#[test]
fn replace_members_and_remove_all_plan_as_replace_all() {
    let plan = plan_member_ops(&parsed(
        json!([{"op": "replace", "path": "members", "value": [{"value": "b"}, {"value": "a"}]}]),
    ))
    .expect("plans");
    assert_eq!(
        plan,
        MemberPlan::Delta {
            delta: Some(MemberDelta::ReplaceAll(vec!["a".into(), "b".into()])),
            rest: vec![]
        }
    );
    let plan = plan_member_ops(&parsed(json!([
        {"op": "remove", "path": "members"},
        {"op": "add", "path": "members", "value": [{"value": "c"}]}
    ])))
    .expect("plans");
    assert_eq!(
        plan,
        MemberPlan::Delta {
            delta: Some(MemberDelta::ReplaceAll(vec!["c".into()])),
            rest: vec![]
        }
    );
}

#[test]
fn path_less_members_are_split_from_the_other_attributes() {
    let plan = plan_member_ops(&parsed(
        json!([{"op": "add", "value": {"displayName": "G", "members": [{"value": "m"}]}}]),
    ))
    .expect("plans");
    let MemberPlan::Delta { delta, rest } = plan else {
        panic!("delta expected")
    };
    assert_eq!(
        delta,
        Some(MemberDelta::Changes {
            added: vec!["m".into()],
            removed: vec![]
        })
    );
    assert_eq!(rest[0].value, Some(json!({"displayName": "G"})));
}

#[test]
fn member_filters_on_other_sub_attributes_need_the_member_list() {
    let plan = plan_member_ops(&parsed(
        json!([{"op": "remove", "path": "members[display eq \"Babs\"]"}]),
    ))
    .expect("plans");
    assert_eq!(plan, MemberPlan::NeedsMembers);
}

#[test]
fn a_member_without_a_value_is_invalid_value() {
    assert!(matches!(
        plan_member_ops(&parsed(
            json!([{"op": "add", "path": "members", "value": [{"display": "x"}]}])
        )),
        Err(ScimError::InvalidValue(_))
    ));
}

fn member_op() -> impl Strategy<Value = Value> {
    let id = prop_oneof![Just("a"), Just("b"), Just("c"), Just("d")];
    prop_oneof![
        prop::collection::vec(id.clone(), 0..3)
            .prop_map(|ids| json!({"op": "add", "path": "members", "value": ids.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()})),
        prop::collection::vec(id.clone(), 1..3)
            .prop_map(|ids| json!({"op": "Remove", "path": "members", "value": ids.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()})),
        id.clone().prop_map(|i| json!({"op": "remove", "path": format!("members[value eq \"{i}\"]")})),
        Just(json!({"op": "remove", "path": "members"})),
        prop::collection::vec(id, 0..3)
            .prop_map(|ids| json!({"op": "replace", "path": "members", "value": ids.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()})),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|i| json!(i)),
        "[a-zA-Z .\\[\\]\"]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("value".to_string()),
                    Just("type".to_string()),
                    Just("primary".to_string()),
                    "[a-zA-Z]{1,6}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn any_path() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        Just("emails".to_string()),
        Just("emails[type eq \"work\"].value".to_string()),
        Just("emails[type eq \"work\"]".to_string()),
        Just("name.givenName".to_string()),
        Just("name".to_string()),
        Just("active".to_string()),
        Just("members".to_string()),
        Just("members[value eq \"a\"]".to_string()),
        Just(format!("{ENT}:manager")),
        Just(ENT.to_string()),
        Just("addresses[type eq \"home\" and primary eq true].locality".to_string()),
        "\\PC{0,20}",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_member_plan_agrees_with_applying_the_patch(
        initial in prop::collection::btree_set(prop_oneof![Just("a"), Just("b"), Just("c"), Just("d")], 0..4),
        list in prop::collection::vec(member_op(), 1..6),
    ) {
        let group = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "g", "displayName": "G",
            "members": initial.iter().map(|i| json!({"value": i})).collect::<Vec<_>>()
        });
        let ops = parsed(Value::Array(list));
        let applied = apply_patch(registry().group(), &group, &ops).expect("applies");
        let MemberPlan::Delta { delta, .. } = plan_member_ops(&ops).expect("plans") else {
            return Err(TestCaseError::fail("unexpected NeedsMembers"));
        };
        let start: Vec<String> = initial.iter().map(|s| s.to_string()).collect();
        let planned = delta.map_or(start.clone(), |d| d.apply_to(&start));
        prop_assert_eq!(planned, member_ids(&applied.resource));
    }

    #[test]
    fn patch_never_panics_on_arbitrary_operations(
        list in prop::collection::vec(
            (prop_oneof![Just("add"), Just("Replace"), Just("remove"), Just("x")], any_path(), proptest::option::of(any_json())),
            1..5,
        )
    ) {
        let body: Vec<Value> = list
            .into_iter()
            .map(|(op, path, value)| {
                let mut o = serde_json::Map::new();
                o.insert("op".into(), json!(op));
                if let Some(p) = path { o.insert("path".into(), json!(p)); }
                if let Some(v) = value { o.insert("value".into(), v); }
                Value::Object(o)
            })
            .collect();
        let before = user();
        let _ = patch_user(&before, Value::Array(body.clone()));
        let _ = patch_group(&group(), Value::Array(body.clone()));
        if let Ok(ops) = parse_patch_request(&ops(Value::Array(body))) {
            let _ = plan_member_ops(&ops);
        }
        prop_assert_eq!(before, user());
    }
}

#[test]
fn the_benchmarked_twenty_operation_patch_applies() {
    let body: Value = {
        let src = include_str!("../../../benches/scim_core.rs");
        let start = src.find("json!({").map(|i| i + 6).expect("ops in bench");
        let end = src[start..]
            .find("\n    })")
            .map(|i| start + i + 6)
            .expect("end of ops");
        // The bench's json! literal is plain JSON apart from the macro wrapper.
        serde_json::from_str(&src[start..end]).expect("bench ops are JSON")
    };
    let out = apply_patch_body(registry().user(), &user(), &body).expect("all 20 operations apply");
    assert_eq!(out.resource["active"], false);
    assert_eq!(
        out.resource["phoneNumbers"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(out.resource[ENT]["manager"], json!({"value": "boss-id"}));
    assert_eq!(
        out.resource["roles"],
        json!([{"value": "guide", "primary": true}])
    );
    assert!(out.resource.get("ims").is_none() && out.resource.get("x509Certificates").is_none());
    assert_eq!(
        out.resource["emails"]
            .as_array()
            .map(|e| e.iter().filter(|x| x["primary"] == true).count()),
        Some(1)
    );
}
