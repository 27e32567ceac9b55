//! Discovery documents (RFC 7644 §4, RFC 7643 §5–7): ServiceProviderConfig with every block (authentik turns
//! PATCH and filtering off when one is missing), ResourceTypes and Schemas, generated from the registry. Each
//! function takes the endpoint's base URL (e.g. `https://h/api/v1/main/integrations/x/scim/v2`).

use serde_json::{json, Value};

use super::error::ScimError;
use super::patch::MAX_OPERATIONS;
use super::resource::ListPage;
use super::schema::{registry, ResourceTypeDef, SchemaDef};
use super::urn::{RESOURCE_TYPE_URN, SCHEMA_URN, SERVICE_PROVIDER_CONFIG_URN};

/// What the server advertises; the HTTP layer must enforce the same limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderOptions {
    /// A human-readable page about this SCIM endpoint (must be an absolute URL).
    pub documentation_uri: String,
    /// PATCH operations per request (and bulk operations, were bulk supported).
    pub max_operations: usize,
    /// Largest request body in bytes.
    pub max_payload_size: usize,
    /// Most resources one list/search response returns.
    pub max_results: usize,
    pub bulk: bool,
    pub change_password: bool,
    pub sort: bool,
    pub etag: bool,
}

impl Default for ServiceProviderOptions {
    fn default() -> Self {
        ServiceProviderOptions {
            documentation_uri: "https://www.rfc-editor.org/info/rfc7644".into(),
            max_operations: MAX_OPERATIONS,
            max_payload_size: 1_048_576,
            max_results: 200,
            bulk: false,
            change_password: false,
            sort: false,
            etag: false,
        }
    }
}

fn base_url(base: &str) -> &str {
    base.trim_end_matches('/')
}

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(base: &str, opts: &ServiceProviderOptions) -> Value {
    let base = base_url(base);
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        "documentationUri": opts.documentation_uri,
        "patch": {"supported": true},
        "bulk": {
            "supported": opts.bulk,
            "maxOperations": opts.max_operations,
            "maxPayloadSize": opts.max_payload_size,
        },
        "filter": {"supported": true, "maxResults": opts.max_results},
        // RFC 9865 §4. Cursors are kept nowhere and never expire: no `cursorTimeout`.
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": opts.max_results,
            "maxPageSize": opts.max_results,
        },
        "changePassword": {"supported": opts.change_password},
        "sort": {"supported": opts.sort},
        "etag": {"supported": opts.etag},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with the integration's Secret Token as an OAuth 2.0 bearer token.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "documentationUri": opts.documentation_uri,
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

fn resource_type_json(base: &str, rt: &ResourceTypeDef) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": rt.id,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema,
        "schemaExtensions": rt.extensions.iter()
            .map(|(urn, required)| json!({"schema": urn, "required": required}))
            .collect::<Vec<_>>(),
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", rt.id)},
    })
}

fn schema_json(base: &str, s: &SchemaDef) -> Value {
    json!({
        "schemas": [SCHEMA_URN],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": s.attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{}", s.id)},
    })
}

/// `GET /ResourceTypes` as a ListResponse.
pub fn resource_types(base: &str) -> String {
    let base = base_url(base);
    let items: Vec<Value> = registry()
        .resource_types
        .iter()
        .map(|rt| resource_type_json(base, rt))
        .collect();
    let n = items.len() as u64;
    ListPage::of_values(items, n).into_response(1).into_string()
}

/// `GET /ResourceTypes/{id}` (case-insensitive id).
pub fn resource_type(base: &str, id: &str) -> Result<Value, ScimError> {
    let rt = registry()
        .resource_types
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            ScimError::NotFound(format!("no resource type `{id}`; try User or Group"))
        })?;
    Ok(resource_type_json(base_url(base), rt))
}

/// `GET /Schemas` as a ListResponse.
pub fn schemas(base: &str) -> String {
    let base = base_url(base);
    let items: Vec<Value> = registry()
        .schemas
        .iter()
        .map(|s| schema_json(base, s))
        .collect();
    let n = items.len() as u64;
    ListPage::of_values(items, n).into_response(1).into_string()
}

/// `GET /Schemas/{urn}` (case-insensitive URN).
pub fn schema(base: &str, id: &str) -> Result<Value, ScimError> {
    let s = registry()
        .schema(id)
        .ok_or_else(|| ScimError::NotFound(format!("no schema `{id}`")))?;
    Ok(schema_json(base_url(base), s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "https://roster.example/api/v1/main/integrations/zIRjRAMGvkammpeLVuyJl/scim/v2/";

    #[test]
    fn service_provider_config_has_every_block_authentik_validates() {
        let spc = service_provider_config(BASE, &ServiceProviderOptions::default());
        for block in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
            assert!(spc[block]["supported"].is_boolean(), "{block}.supported");
        }
        assert_eq!(spc["patch"]["supported"], true);
        assert_eq!(spc["filter"]["supported"], true);
        assert!(spc["bulk"]["maxOperations"].is_u64());
        assert!(spc["bulk"]["maxPayloadSize"].is_u64());
        assert!(spc["filter"]["maxResults"].is_u64());
        assert_eq!(
            (&spc["pagination"]["cursor"], &spc["pagination"]["index"]),
            (&json!(true), &json!(true))
        );
        assert_eq!(
            spc["pagination"]["maxPageSize"],
            spc["filter"]["maxResults"]
        );
        assert!(spc["pagination"].get("cursorTimeout").is_none());
        let scheme = &spc["authenticationSchemes"][0];
        assert_eq!(scheme["type"], "oauthbearertoken");
        assert_eq!(scheme["primary"], true);
        for key in ["name", "description"] {
            assert!(scheme[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
        }
        for key in ["specUri", "documentationUri"] {
            assert!(
                scheme[key]
                    .as_str()
                    .is_some_and(|s| s.starts_with("https://")),
                "{key}"
            );
        }
        assert_eq!(
            spc["meta"]["location"],
            "https://roster.example/api/v1/main/integrations/zIRjRAMGvkammpeLVuyJl/scim/v2/ServiceProviderConfig"
        );
    }

    #[test]
    fn resource_types_list_user_with_the_enterprise_extension_and_group() {
        let list: Value = serde_json::from_str(&resource_types(BASE)).expect("JSON");
        assert_eq!(list["totalResults"], 2);
        assert_eq!(list["Resources"][0]["endpoint"], "/Users");
        assert_eq!(
            list["Resources"][0]["schemaExtensions"][0]["schema"],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        );
        assert_eq!(list["Resources"][1]["id"], "Group");
        assert_eq!(
            resource_type(BASE, "group").expect("group")["endpoint"],
            "/Groups"
        );
        assert_eq!(
            resource_type(BASE, "Device").map_err(|e| e.status()),
            Err(404)
        );
    }

    #[test]
    fn schemas_are_served_from_the_registry_with_rfc_attribute_keys() {
        let list: Value = serde_json::from_str(&schemas(BASE)).expect("JSON");
        assert_eq!(list["totalResults"], 3);
        let user = schema(BASE, "urn:ietf:params:scim:schemas:core:2.0:user").expect("user schema");
        let user_name = &user["attributes"][0];
        assert_eq!(user_name["name"], "userName");
        assert_eq!(user_name["type"], "string");
        assert_eq!(user_name["multiValued"], false);
        assert_eq!(user_name["required"], true);
        assert_eq!(user_name["caseExact"], false);
        assert_eq!(user_name["mutability"], "readWrite");
        assert_eq!(user_name["returned"], "default");
        assert_eq!(user_name["uniqueness"], "server");
        let emails = user["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == "emails"))
            .expect("emails");
        assert_eq!(
            emails["subAttributes"][2]["canonicalValues"],
            json!(["work", "home", "other"])
        );
        assert_eq!(schema(BASE, "urn:nope").map_err(|e| e.status()), Err(404));
    }
}
