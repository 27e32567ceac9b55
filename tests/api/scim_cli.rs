//! `roster scim …`: integrations managed from the command line, used against a live router.

use serde_json::Value;

use crate::cli::roster;
use crate::helpers::fresh_database;

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[tokio::test]
async fn scim_create_prints_id_endpoint_and_a_200_character_token_and_sets_up_the_role() {
    let (url, _dir) = fresh_database().await;
    let (code, out, err) = roster(
        &url,
        &[
            "scim",
            "create",
            "--tenant",
            "main",
            "--name",
            "authentik",
            "--description",
            "IdP",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let created = json_of(&out);
    let id = created["id"].as_str().unwrap();
    assert_eq!(id.len(), 21);
    assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(created["endpoint"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/v1/main/integrations/{id}/scim/v2")));
    let token = created["token"].as_str().unwrap();
    assert_eq!(token.len(), 200);
    assert_eq!(created["enabled"], true);

    let (code, out, _) = roster(&url, &["scim", "disable", "--tenant", "main", id], "");
    assert_eq!(code, 0);
    assert_eq!(json_of(&out)["enabled"], false);
    let (_, out, _) = roster(&url, &["scim", "enable", "--tenant", "main", id], "");
    assert_eq!(json_of(&out)["enabled"], true);
    let rotate = [
        "scim",
        "rotate",
        "--tenant",
        "main",
        "--grace-seconds",
        "90",
        id,
    ];
    let (code, out, _) = roster(&url, &rotate, "");
    assert_eq!(code, 0);
    let new_token = json_of(&out)["token"].as_str().unwrap().to_string();
    assert_ne!(new_token, token);
    let (code, out, _) = roster(&url, &["scim", "log", "--tenant", "main", id], "");
    assert_eq!(code, 0);
    assert_eq!(json_of(&out), serde_json::json!([]));
    let (_, out, _) = roster(&url, &["scim", "list", "--tenant", "main"], "");
    assert_eq!(json_of(&out).as_array().unwrap().len(), 1);
    // A second integration reuses the SCIMProvisioner role.
    let (code, _, err) = roster(
        &url,
        &[
            "scim",
            "create",
            "--tenant",
            "main",
            "--name",
            "okta",
            "--disabled",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = roster(&url, &["scim", "delete", "--tenant", "main", id], "");
    assert_eq!(code, 0);
    assert_eq!(json_of(&out)["deleted"], true);
    let (code, _, err) = roster(&url, &["scim", "delete", "--tenant", "main", id], "");
    assert_eq!(code, 1);
    assert!(err.starts_with("error: "), "{err}");

    // Each change is in the tenant's audit log, by the operator; the refused delete is not.
    let db = roster::db::Db::connect(&url).await.unwrap();
    let log = roster::iam::audit::page(&db, "main", &Default::default(), (None, None))
        .await
        .unwrap();
    let seen: Vec<(&str, &str, &str)> = log
        .events
        .iter()
        .map(|e| (e.action.as_str(), e.target_name.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("integration.delete", "authentik", seen[0].2),
            ("integration.create", "okta", "Disabled."),
            (
                "integration.rotate",
                "authentik",
                "The old token keeps working for 90 seconds more."
            ),
            ("integration.enable", "authentik", ""),
            ("integration.disable", "authentik", ""),
            ("integration.create", "authentik", "Enabled."),
        ]
    );
    assert!(log.events.iter().all(|e| e.actor_kind == "operator"));
    assert!(!format!("{:?}", log.events).contains(&new_token));
}

#[tokio::test]
async fn scim_create_in_an_unknown_tenant_fails_with_a_message() {
    let (url, _dir) = fresh_database().await;
    let (code, _, err) = roster(
        &url,
        &["scim", "create", "--tenant", "nope", "--name", "x"],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("nope"), "{err}");
}
