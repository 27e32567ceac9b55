//! Microbenchmarks of the SCIM protocol core: filter parse + evaluate, and a 20-operation PATCH, over the
//! RFC 7643 §8.2 example user; a group's body validated with 1,000 and with 10,000 members (its
//! repeated members merged through a map: 255 µs and 4.5 ms on the machine of issue #13, the
//! allocator's work growing a little faster than the members; compared pairwise, a hundredfold).
//! Run with `cargo bench --features ssr --bench scim_core`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use roster::scim::filter::{self, Filter};
use roster::scim::patch::{apply_patch, apply_patch_body, parse_patch_request};
use roster::scim::registry;
use roster::scim::resource::{validate_resource, Intent};
use serde_json::{json, Value};

const FILTER: &str = r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"] and meta.lastModified gt "2011-01-01T00:00:00Z""#;

fn user() -> Value {
    serde_json::from_str(include_str!("../src/scim/fixtures/rfc7643_user_full.json"))
        .unwrap_or(Value::Null)
}

fn twenty_ops() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "replace", "path": "name.familyName", "value": "Jensen-Smith"},
            {"op": "replace", "path": "name.givenName", "value": "Barb"},
            {"op": "add", "path": "nickName", "value": "B"},
            {"op": "replace", "path": "title", "value": "Chief Guide"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "barb@example.com"},
            {"op": "add", "path": "emails", "value": [{"value": "b2@example.org", "type": "other", "primary": true}]},
            {"op": "remove", "path": "emails[type eq \"home\"]"},
            {"op": "Add", "path": "phoneNumbers[type eq \"fax\"].value", "value": "+1 555 0100"},
            {"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555-555-0000"},
            {"op": "remove", "path": "ims"},
            {"op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Burbank"},
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "701984"},
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "boss-id"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Tours"},
            {"op": "replace", "value": {"displayName": "Barb Jensen", "locale": "en-GB"}},
            {"op": "replace", "value": {"name.middleName": "J", "preferredLanguage": "en"}},
            {"op": "add", "path": "roles", "value": [{"value": "guide", "primary": "True"}]},
            {"op": "remove", "path": "x509Certificates"},
            {"op": "replace", "path": "userType", "value": "Contractor"}
        ]
    })
}

fn benches(c: &mut Criterion) {
    let rt = registry().user();
    let resource = user();
    let parsed = Filter::parse(FILTER)
        .unwrap_or_else(|_| Filter::Present(roster::scim::AttrPath::new("id")));

    c.bench_function("filter parse", |b| {
        b.iter(|| Filter::parse(black_box(FILTER)))
    });
    c.bench_function("filter evaluate", |b| {
        b.iter(|| filter::matches(black_box(&parsed), black_box(&resource), rt))
    });
    c.bench_function("filter parse + evaluate", |b| {
        b.iter(|| Filter::parse(black_box(FILTER)).map(|f| filter::matches(&f, &resource, rt)))
    });

    let body = twenty_ops();
    let ops = parse_patch_request(&body).unwrap_or_default();
    c.bench_function("patch 20 ops (parse + apply)", |b| {
        b.iter(|| apply_patch_body(rt, black_box(&resource), black_box(&body)))
    });
    c.bench_function("patch 20 ops (apply only)", |b| {
        b.iter(|| apply_patch(rt, black_box(&resource), black_box(&ops)))
    });

    let groups = registry().group();
    for n in [1_000, 10_000] {
        let members: Vec<Value> = (0..n)
            .map(|i| json!({"value": format!("0193a3c2-7d4e-7000-8000-{i:012}")}))
            .collect();
        let group =
            json!({"schemas": [groups.schema], "displayName": "everyone", "members": members});
        c.bench_function(&format!("group body with {n} members validated"), |b| {
            b.iter(|| validate_resource(groups, black_box(&group), Intent::Create))
        });
    }
}

criterion_group!(scim_core, benches);
criterion_main!(scim_core);
