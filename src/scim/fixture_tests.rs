//! End-to-end checks over the fixtures: the RFC 7643/7644 examples and every payload shape authentik, Okta and
//! Entra ID send (`shared/docs/idp-clients.md`), run through validation, PATCH, projection and rendering.

use serde_json::{json, Value};

use super::patch::{
    apply_patch_body, parse_patch_request, plan_member_ops, MemberDelta, MemberPlan,
};
use super::projection::Projection;
use super::resource::{render, validate_resource, Intent};
use super::schema::registry;
use super::urn::ENTERPRISE_USER_URN;

fn load(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn authentik() -> Value {
    load(include_str!("fixtures/idp_authentik.json"))
}
fn okta() -> Value {
    load(include_str!("fixtures/idp_okta.json"))
}
fn entra() -> Value {
    load(include_str!("fixtures/idp_entra.json"))
}
fn rfc_patch() -> Value {
    load(include_str!("fixtures/rfc7644_patch.json"))
}
fn rfc_user() -> Value {
    load(include_str!("fixtures/rfc7643_user_full.json"))
}
fn rfc_group() -> Value {
    load(include_str!("fixtures/rfc7643_group.json"))
}

fn create_user(body: &Value) -> Value {
    let mut v = validate_resource(registry().user(), body, Intent::Create).expect("valid user");
    v["id"] = json!("u-1");
    v
}

fn create_group(body: &Value) -> Value {
    let mut v = validate_resource(registry().group(), body, Intent::Create).expect("valid group");
    v["id"] = json!("group-1");
    v
}

fn member_ids(v: &Value) -> Vec<&str> {
    let mut ids: Vec<&str> = v["members"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

#[test]
fn the_rfc_7643_examples_validate_and_render() {
    for text in [
        include_str!("fixtures/rfc7643_user_minimal.json"),
        include_str!("fixtures/rfc7643_user_full.json"),
        include_str!("fixtures/rfc7643_enterprise_user.json"),
    ] {
        let body = load(text);
        let v = validate_resource(registry().user(), &body, Intent::Create).expect("valid");
        assert!(v.get("id").is_none() && v.get("meta").is_none() && v.get("groups").is_none());
        let out = render(registry().user(), body.clone());
        assert!(out.get("password").is_none());
        assert_eq!(out["userName"], "bjensen@example.com");
    }
    let e = validate_resource(
        registry().user(),
        &load(include_str!("fixtures/rfc7643_enterprise_user.json")),
        Intent::Create,
    )
    .expect("valid");
    assert_eq!(
        e[ENTERPRISE_USER_URN]["manager"],
        json!({"value": "26118915-6090-4610-87e4-49d8ca9f808d", "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d"})
    );
    let g =
        validate_resource(registry().group(), &rfc_group(), Intent::Create).expect("valid group");
    assert_eq!(member_ids(&g).len(), 2);
    assert!(
        g["members"][0].get("display").is_none(),
        "display is readOnly and recomputed by the server"
    );
}

#[test]
fn the_rfc_7644_patch_examples_apply() {
    let p = rfc_patch();
    let user = rfc_user();
    let group = rfc_group();
    let g = |name: &str| {
        apply_patch_body(registry().group(), &group, &p[name])
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let u = |name: &str| {
        apply_patch_body(registry().user(), &user, &p[name])
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };

    let out = g("add_member");
    assert_eq!(out.members, None, "Babs is already a member");
    let out = g("remove_one_member");
    assert_eq!(
        member_ids(&out.resource),
        vec!["902c246b-6245-4190-8e05-00816be7344a"]
    );
    assert!(member_ids(&g("remove_all_members").resource).is_empty());
    let expected = vec![
        "08e1d05d-121c-4561-8b96-473d93df9210",
        "2819c223-7f76-453a-919d-413861904646",
    ];
    assert_eq!(
        member_ids(&g("remove_all_then_add_members").resource),
        expected
    );
    let out = g("replace_members");
    assert_eq!(member_ids(&out.resource), expected);
    assert_eq!(
        out.members,
        Some(MemberDelta::Changes {
            added: vec!["08e1d05d-121c-4561-8b96-473d93df9210".into()],
            removed: vec!["902c246b-6245-4190-8e05-00816be7344a".into()]
        })
    );

    let out = u("add_without_path");
    assert_eq!(out.resource["nickName"], "Babs");
    assert_eq!(
        out.changed,
        Vec::<String>::new(),
        "both values were already there"
    );
    let out = u("remove_work_example_emails");
    assert_eq!(
        out.resource["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
    let out = u("replace_work_address");
    assert_eq!(
        out.resource["addresses"][0]["streetAddress"],
        "911 Universal City Plaza"
    );
    assert_eq!(out.resource["addresses"][1]["type"], "home");
    let out = u("replace_work_street");
    assert_eq!(
        out.resource["addresses"][0]["streetAddress"],
        "1010 Broadway Ave"
    );
    assert_eq!(out.resource["addresses"][0]["locality"], "Hollywood");
    let out = u("replace_without_path");
    assert_eq!(out.resource["emails"].as_array().map(Vec::len), Some(2));
}

#[test]
fn authentik_users_round_trip_as_sent() {
    let a = authentik();
    let body = &a["user_create"];
    let stored = create_user(body);
    let out = render(registry().user(), stored.clone());
    for key in [
        "userName",
        "name",
        "displayName",
        "active",
        "emails",
        "externalId",
    ] {
        assert_eq!(out[key], body[key], "{key} must be echoed as sent");
    }
    let one_word = render(
        registry().user(),
        create_user(&a["user_create_one_word_name_no_email"]),
    );
    assert_eq!(one_word["name"]["familyName"], " ");
    assert_eq!(one_word["emails"], json!([]));
    let put = validate_resource(
        registry().user(),
        &a["user_put_deactivate"],
        Intent::Replace {
            existing: &|| stored.clone(),
        },
    )
    .expect("valid");
    assert_eq!(put["active"], false);
    assert!(put.get("id").is_none());
}

#[test]
fn authentik_group_and_member_patches_apply_and_plan() {
    let a = authentik();
    let group = create_group(&a["group_create"]);
    assert_eq!(
        render(registry().group(), group.clone())["members"],
        json!([])
    );
    let with_members = create_group(&a["group_create_without_patch"]);
    assert_eq!(
        member_ids(&with_members),
        vec!["7d3e7f1c-0000-4000-8000-000000000001"]
    );

    let added = apply_patch_body(registry().group(), &group, &a["member_add"]).expect("add");
    assert_eq!(
        member_ids(&added.resource),
        vec!["7d3e7f1c-0000-4000-8000-000000000001"]
    );
    for form in ["member_remove_old", "member_remove_new"] {
        let out = apply_patch_body(registry().group(), &added.resource, &a[form]).expect(form);
        assert!(member_ids(&out.resource).is_empty(), "{form}");
        let plan = plan_member_ops(&parse_patch_request(&a[form]).expect("parses")).expect("plans");
        assert_eq!(
            plan,
            MemberPlan::Delta {
                delta: Some(MemberDelta::Changes {
                    added: vec![],
                    removed: vec!["7d3e7f1c-0000-4000-8000-000000000001".into()]
                }),
                rest: vec![]
            },
            "{form}"
        );
        // Removing again (authentik retries) is a no-op, not an error.
        assert!(apply_patch_body(registry().group(), &out.resource, &a[form]).is_ok());
    }
    let renamed =
        apply_patch_body(registry().group(), &added.resource, &a["group_rename"]).expect("rename");
    assert_eq!(renamed.resource["displayName"], "authentik Superusers");
    assert_eq!(renamed.resource["id"], "group-1");
    assert_eq!(
        member_ids(&renamed.resource).len(),
        1,
        "a rename never empties the group"
    );
    assert_eq!(renamed.changed, vec!["displayName"]);
}

#[test]
fn okta_payloads_apply() {
    let o = okta();
    let user = create_user(&o["user_create"]);
    assert!(user.get("groups").is_none(), "groups is readOnly");
    assert_eq!(
        user["password"], "1mz050nq",
        "password is kept for storage to hash"
    );
    assert!(render(registry().user(), user.clone())
        .get("password")
        .is_none());
    let off =
        apply_patch_body(registry().user(), &user, &o["user_deactivate"]).expect("deactivate");
    assert_eq!(off.resource["active"], false);
    assert_eq!(off.changed, vec!["active"]);

    let group = create_group(&o["group_create"]);
    let renamed = apply_patch_body(registry().group(), &group, &o["group_replace_name"])
        .expect("replace name");
    assert!(renamed.changed.is_empty(), "same name, id ignored");
    let ops = parse_patch_request(&o["group_membership"]).expect("parses");
    assert_eq!(
        plan_member_ops(&ops).expect("plans"),
        MemberPlan::Delta {
            delta: Some(MemberDelta::Changes {
                added: vec!["u-new".into()],
                removed: vec!["u-old".into()]
            }),
            rest: vec![]
        }
    );
    let ops = parse_patch_request(&o["group_push_all"]).expect("parses");
    assert_eq!(
        plan_member_ops(&ops).expect("plans"),
        MemberPlan::Delta {
            delta: Some(MemberDelta::ReplaceAll(vec!["u-a".into(), "u-b".into()])),
            rest: vec![]
        }
    );
}

#[test]
fn entra_payloads_apply() {
    let e = entra();
    let user = create_user(&e["user_create"]);
    assert!(user.get("meta").is_none());
    assert_eq!(user["roles"], json!([]));
    assert_eq!(
        user[ENTERPRISE_USER_URN]["manager"],
        json!({"value": "manager-id"})
    );

    let out = apply_patch_body(registry().user(), &user, &e["user_patch_default"])
        .expect("default PATCH");
    let r = &out.resource;
    assert_eq!(r["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(r["name"]["familyName"], "updatedFamilyName");
    assert_eq!(r[ENTERPRISE_USER_URN]["employeeNumber"], "456");
    assert_eq!(
        r[ENTERPRISE_USER_URN]["manager"],
        json!({"value": "new-manager-id"})
    );
    assert_eq!(
        r["phoneNumbers"],
        json!([{"type": "work", "value": "+1 555 0100"}])
    );
    assert_eq!(r["active"], false);

    let out = apply_patch_body(registry().user(), &user, &e["user_patch_aadoptscim062020"])
        .expect("aadOptscim062020 PATCH");
    assert_eq!(out.resource["name"]["givenName"], "updatedGivenName");
    assert_eq!(out.resource[ENTERPRISE_USER_URN]["employeeNumber"], "789");
    assert_eq!(out.resource["active"], false);

    let group = create_group(&e["group_create"]);
    assert_eq!(
        group["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
    );
    let added = apply_patch_body(registry().group(), &group, &e["group_member_add"]).expect("add");
    assert_eq!(
        added.resource["members"],
        json!([{"value": "f648f8d5ea4e4cd38e9c"}]),
        "$ref: null is dropped"
    );
    for form in [
        "group_member_remove_default",
        "group_member_remove_aadoptscim062020",
    ] {
        let out = apply_patch_body(registry().group(), &added.resource, &e[form]).expect(form);
        assert!(member_ids(&out.resource).is_empty(), "{form}");
    }
    let renamed = apply_patch_body(registry().group(), &group, &e["group_rename"]).expect("rename");
    assert_eq!(renamed.changed, vec!["displayName"]);
}

#[test]
fn entra_reads_groups_without_members() {
    let group = create_group(&rfc_group());
    let p = Projection::from_query(registry().group(), None, Some("members")).expect("projection");
    assert!(!p.includes("members"));
    let out = p.apply(render(registry().group(), group.clone()));
    assert!(out.get("members").is_none());
    assert_eq!(out["displayName"], "Tour Guides");
}
