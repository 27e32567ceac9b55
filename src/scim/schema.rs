//! The schema registry: every attribute's characteristics (RFC 7643 §2, §4, §7, §8.7) as data that validation,
//! PATCH, projection, filtering and the `/Schemas` endpoint all read, instead of per-attribute `if`s.

use std::sync::OnceLock;

use serde::Serialize;

use super::attr_path::AttrPath;
use super::urn::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

/// RFC 7643 §2.3 attribute data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

/// One attribute definition, serialised exactly as the `/Schemas` endpoint shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDef {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub ty: AttrType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<AttributeDef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<&'static str>,
}

impl AttributeDef {
    /// A sub-attribute by name, case-insensitively.
    pub fn sub(&self, name: &str) -> Option<&AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// True for multi-valued complex attributes whose elements carry a `primary` flag.
    pub fn has_primary(&self) -> bool {
        self.multi_valued && self.sub("primary").is_some()
    }

    /// True when a client may not write the attribute.
    pub fn is_read_only(&self) -> bool {
        self.mutability == Mutability::ReadOnly
    }
}

/// A schema (core or extension): a URN and its attributes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<AttributeDef>,
}

impl SchemaDef {
    /// An attribute by name, case-insensitively.
    pub fn attr(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A resource type (RFC 7643 §6): its core schema and the extensions it may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTypeDef {
    pub id: &'static str,
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: &'static str,
    /// `(schema URN, required)` pairs.
    pub extensions: Vec<(&'static str, bool)>,
}

/// Where a resolved attribute lives and what it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolvedAttr<'r> {
    /// The URN of the schema that defines the attribute (the core schema for `id`, `externalId`, `meta`).
    pub schema: &'static str,
    /// True when the attribute sits under its schema URN key in the JSON (extension attributes).
    pub extension: bool,
    /// The top-level attribute.
    pub attr: &'r AttributeDef,
    /// The sub-attribute, when the path named one.
    pub sub: Option<&'r AttributeDef>,
}

impl<'r> ResolvedAttr<'r> {
    /// The attribute the path ends at (the sub-attribute if there is one).
    pub fn leaf(&self) -> &'r AttributeDef {
        self.sub.unwrap_or(self.attr)
    }

    /// The data type of the leaf.
    pub fn ty(&self) -> AttrType {
        self.leaf().ty
    }

    /// Whether string comparison on the leaf is case-sensitive.
    pub fn case_exact(&self) -> bool {
        self.leaf().case_exact
    }

    /// Canonically spelled path: `name.givenName`, or `urn:…:User:employeeNumber` for extension attributes.
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        if self.extension {
            s.push_str(self.schema);
            s.push(':');
        }
        s.push_str(self.attr.name);
        if let Some(sub) = self.sub {
            s.push('.');
            s.push_str(sub.name);
        }
        s
    }

    /// The JSON key at the top level of a resource that holds this attribute (the URN for extensions).
    pub fn top_key(&self) -> &'static str {
        if self.extension {
            self.schema
        } else {
            self.attr.name
        }
    }
}

/// Why an attribute path could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// The URN prefix is not a schema of this resource type (callers usually ignore such data).
    UnknownSchema(String),
    /// No such attribute (or sub-attribute) in the schema.
    UnknownAttribute(String),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::UnknownSchema(u) => {
                write!(f, "schema `{u}` is not supported for this resource type")
            }
            ResolveError::UnknownAttribute(a) => write!(f, "attribute `{a}` is not defined"),
        }
    }
}

/// All schemas and resource types the server knows.
#[derive(Debug, Clone)]
pub struct Registry {
    pub schemas: Vec<SchemaDef>,
    pub resource_types: Vec<ResourceTypeDef>,
    /// RFC 7643 §3.1 common attributes (`id`, `externalId`, `meta`), part of every resource.
    pub common: Vec<AttributeDef>,
}

/// The process-wide registry with User (+ Enterprise User) and Group.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::standard)
}

impl Registry {
    /// Schema by URN, case-insensitively.
    pub fn schema(&self, urn: &str) -> Option<&SchemaDef> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resource type by id/name ("User") or endpoint ("/Users"), case-insensitively.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceTypeDef> {
        self.resource_types
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(name) || r.endpoint.eq_ignore_ascii_case(name))
    }

    /// The User resource type.
    pub fn user(&self) -> &ResourceTypeDef {
        &self.resource_types[0]
    }

    /// The Group resource type.
    pub fn group(&self) -> &ResourceTypeDef {
        &self.resource_types[1]
    }

    /// A common attribute (`id`, `externalId`, `meta`) by name.
    pub fn common_attr(&self, name: &str) -> Option<&AttributeDef> {
        self.common
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The schemas a resource type may carry, core first.
    pub fn schemas_of<'a>(
        &'a self,
        rt: &'a ResourceTypeDef,
    ) -> impl Iterator<Item = &'a SchemaDef> + 'a {
        std::iter::once(rt.schema)
            .chain(rt.extensions.iter().map(|(u, _)| *u))
            .filter_map(move |u| self.schema(u))
    }

    /// The extension schema of `rt` whose URN equals `urn` (case-insensitively).
    pub fn extension_of<'a>(&'a self, rt: &ResourceTypeDef, urn: &str) -> Option<&'a SchemaDef> {
        rt.extensions
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(urn))
            .and_then(|(u, _)| self.schema(u))
    }

    /// Resolves a top-level attribute name (no URN) of `rt`: core schema, then common attributes, then — as a
    /// tolerance for clients that omit the URN — an attribute of exactly one extension.
    pub fn top_level(&self, rt: &ResourceTypeDef, name: &str) -> Option<ResolvedAttr<'_>> {
        let core = self.schema(rt.schema)?;
        if let Some(attr) = core.attr(name) {
            return Some(ResolvedAttr {
                schema: core.id,
                extension: false,
                attr,
                sub: None,
            });
        }
        if let Some(attr) = self.common_attr(name) {
            return Some(ResolvedAttr {
                schema: core.id,
                extension: false,
                attr,
                sub: None,
            });
        }
        let mut found = rt
            .extensions
            .iter()
            .filter_map(|(u, _)| self.schema(u))
            .filter_map(|s| s.attr(name).map(|a| (s, a)));
        match (found.next(), found.next()) {
            (Some((s, attr)), None) => Some(ResolvedAttr {
                schema: s.id,
                extension: true,
                attr,
                sub: None,
            }),
            _ => None,
        }
    }

    /// Resolves an attribute path (case-insensitive names, optional URN prefix, optional sub-attribute) against
    /// resource type `rt`. Storage uses this to learn an attribute's canonical name, type and caseExact.
    pub fn resolve(
        &self,
        rt: &ResourceTypeDef,
        path: &AttrPath,
    ) -> Result<ResolvedAttr<'_>, ResolveError> {
        let mut resolved = match &path.urn {
            Some(urn) => {
                let schema = if rt.schema.eq_ignore_ascii_case(urn) {
                    self.schema(rt.schema)
                } else {
                    self.extension_of(rt, urn)
                }
                .ok_or_else(|| ResolveError::UnknownSchema(urn.clone()))?;
                let extension = !schema.id.eq_ignore_ascii_case(rt.schema);
                let attr = schema
                    .attr(&path.name)
                    .or_else(|| {
                        if extension {
                            None
                        } else {
                            self.common_attr(&path.name)
                        }
                    })
                    .ok_or_else(|| ResolveError::UnknownAttribute(path.to_string()))?;
                ResolvedAttr {
                    schema: schema.id,
                    extension,
                    attr,
                    sub: None,
                }
            }
            None => self
                .top_level(rt, &path.name)
                .ok_or_else(|| ResolveError::UnknownAttribute(path.to_string()))?,
        };
        if let Some(sub) = &path.sub_attr {
            let sub_def = resolved
                .attr
                .sub(sub)
                .ok_or_else(|| ResolveError::UnknownAttribute(path.to_string()))?;
            resolved.sub = Some(sub_def);
        }
        Ok(resolved)
    }

    /// The registry of RFC 7643: core User, Enterprise User extension and Group.
    pub fn standard() -> Registry {
        Registry {
            schemas: vec![user_schema(), enterprise_user_schema(), group_schema()],
            resource_types: vec![
                ResourceTypeDef {
                    id: "User",
                    name: "User",
                    endpoint: "/Users",
                    description: "User Account",
                    schema: USER_URN,
                    extensions: vec![(ENTERPRISE_USER_URN, false)],
                },
                ResourceTypeDef {
                    id: "Group",
                    name: "Group",
                    endpoint: "/Groups",
                    description: "Group",
                    schema: GROUP_URN,
                    extensions: vec![],
                },
            ],
            common: common_attributes(),
        }
    }
}

// ---- Building the data -------------------------------------------------------------------------------------

/// A single-valued, optional, case-insensitive, readWrite, returned-by-default, non-unique attribute.
fn attr(name: &'static str, ty: AttrType, description: &'static str) -> AttributeDef {
    AttributeDef {
        name,
        ty,
        multi_valued: false,
        description,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        sub_attributes: Vec::new(),
        canonical_values: Vec::new(),
        reference_types: Vec::new(),
    }
}

fn string(name: &'static str, description: &'static str) -> AttributeDef {
    attr(name, AttrType::String, description)
}

impl AttributeDef {
    fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    fn unique(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    fn subs(mut self, subs: Vec<AttributeDef>) -> Self {
        self.ty = AttrType::Complex;
        self.sub_attributes = subs;
        self
    }
    fn canonical(mut self, values: &[&'static str]) -> Self {
        self.canonical_values = values.to_vec();
        self
    }
    fn refs(mut self, types: &[&'static str]) -> Self {
        self.ty = AttrType::Reference;
        self.reference_types = types.to_vec();
        self
    }
}

/// The `value`/`display`/`type`/`primary` quartet shared by most multi-valued attributes.
fn multi_valued(
    name: &'static str,
    description: &'static str,
    value: AttributeDef,
    types: &[&'static str],
) -> AttributeDef {
    attr(name, AttrType::Complex, description)
        .multi()
        .subs(vec![
            value,
            string(
                "display",
                "A human-readable name, primarily used for display purposes.",
            ),
            string("type", "A label indicating the attribute's function.").canonical(types),
            attr(
                "primary",
                AttrType::Boolean,
                "Whether this is the primary value; true at most once.",
            ),
        ])
}

fn common_attributes() -> Vec<AttributeDef> {
    let ro = Mutability::ReadOnly;
    vec![
        string(
            "id",
            "Unique identifier for the resource, assigned by the service provider.",
        )
        .case_exact()
        .mutability(ro)
        .returned(Returned::Always)
        .unique(Uniqueness::Server),
        string(
            "externalId",
            "Identifier of the resource as defined by the provisioning client.",
        )
        .case_exact(),
        attr("meta", AttrType::Complex, "Resource metadata.")
            .mutability(ro)
            .returned(Returned::Always)
            .subs(vec![
                string(
                    "resourceType",
                    "The name of the resource type of the resource.",
                )
                .case_exact()
                .mutability(ro),
                attr(
                    "created",
                    AttrType::DateTime,
                    "When the resource was added.",
                )
                .mutability(ro),
                attr(
                    "lastModified",
                    AttrType::DateTime,
                    "When the resource was last updated.",
                )
                .mutability(ro),
                attr("location", AttrType::Reference, "The URI of the resource.")
                    .refs(&["uri"])
                    .case_exact()
                    .mutability(ro),
                string("version", "The version (ETag) of the resource.")
                    .case_exact()
                    .mutability(ro),
            ]),
    ]
}

fn user_schema() -> SchemaDef {
    let s = string;
    SchemaDef {
        id: USER_URN,
        name: "User",
        description: "User Account",
        attributes: vec![
            s(
                "userName",
                "Unique identifier for the User, used to authenticate. REQUIRED.",
            )
            .required()
            .unique(Uniqueness::Server),
            attr(
                "name",
                AttrType::Complex,
                "The components of the user's real name.",
            )
            .subs(vec![
                s("formatted", "The full name, formatted for display."),
                s("familyName", "The family name (last name)."),
                s("givenName", "The given name (first name)."),
                s("middleName", "The middle name(s)."),
                s("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
                s("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
            ]),
            s(
                "displayName",
                "The name of the User, suitable for display to end-users.",
            ),
            s("nickName", "The casual way to address the user."),
            attr(
                "profileUrl",
                AttrType::Reference,
                "A URI to the user's online profile.",
            )
            .refs(&["external"]),
            s("title", "The user's title, such as 'Vice President'."),
            s(
                "userType",
                "The relationship between the organization and the user, e.g. 'Employee'.",
            ),
            s(
                "preferredLanguage",
                "The user's preferred written or spoken language (RFC 7231 §5.3.5).",
            ),
            s(
                "locale",
                "The user's default location for localisation, e.g. 'en-US'.",
            ),
            s(
                "timezone",
                "The user's time zone in IANA format, e.g. 'America/Los_Angeles'.",
            ),
            attr(
                "active",
                AttrType::Boolean,
                "The user's administrative status.",
            ),
            s(
                "password",
                "The user's cleartext password; write-only, never returned.",
            )
            .mutability(Mutability::WriteOnly)
            .returned(Returned::Never),
            multi_valued(
                "emails",
                "Email addresses for the user.",
                s("value", "Email address for the user."),
                &["work", "home", "other"],
            ),
            multi_valued(
                "phoneNumbers",
                "Phone numbers for the user.",
                s("value", "Phone number of the user."),
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            multi_valued(
                "ims",
                "Instant messaging addresses for the user.",
                s("value", "Instant messaging address for the user."),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            multi_valued(
                "photos",
                "URLs of photos of the user.",
                attr("value", AttrType::Reference, "URL of a photo of the user.")
                    .refs(&["external"]),
                &["photo", "thumbnail"],
            ),
            attr(
                "addresses",
                AttrType::Complex,
                "A physical mailing address for this user.",
            )
            .multi()
            .subs(vec![
                s(
                    "formatted",
                    "The full mailing address, formatted for display.",
                ),
                s("streetAddress", "The full street address component."),
                s("locality", "The city or locality component."),
                s("region", "The state or region component."),
                s("postalCode", "The zip code or postal code component."),
                s(
                    "country",
                    "The country name component (ISO 3166-1 alpha-2).",
                ),
                s("type", "A label indicating the attribute's function.")
                    .canonical(&["work", "home", "other"]),
                attr(
                    "primary",
                    AttrType::Boolean,
                    "Whether this is the primary address; true at most once.",
                ),
            ]),
            attr(
                "groups",
                AttrType::Complex,
                "A list of groups to which the user belongs.",
            )
            .multi()
            .mutability(Mutability::ReadOnly)
            .subs(vec![
                s("value", "The identifier of the user's group.").mutability(Mutability::ReadOnly),
                attr(
                    "$ref",
                    AttrType::Reference,
                    "The URI of the corresponding Group resource.",
                )
                .refs(&["User", "Group"])
                .mutability(Mutability::ReadOnly),
                s("display", "A human-readable name of the group.")
                    .mutability(Mutability::ReadOnly),
                s("type", "Whether membership is direct or indirect.")
                    .canonical(&["direct", "indirect"])
                    .mutability(Mutability::ReadOnly),
            ]),
            multi_valued(
                "entitlements",
                "A list of entitlements for the user.",
                s("value", "The entitlement."),
                &[],
            ),
            multi_valued(
                "roles",
                "A list of roles for the user.",
                s("value", "The role."),
                &[],
            ),
            multi_valued(
                "x509Certificates",
                "A list of certificates issued to the user.",
                attr(
                    "value",
                    AttrType::Binary,
                    "The DER-encoded X.509 certificate (base64).",
                )
                .case_exact(),
                &[],
            ),
        ],
    }
}

fn enterprise_user_schema() -> SchemaDef {
    let s = string;
    SchemaDef {
        id: ENTERPRISE_USER_URN,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            s(
                "employeeNumber",
                "Numeric or alphanumeric identifier assigned to a person by the organization.",
            ),
            s("costCenter", "Identifies the name of a cost center."),
            s("organization", "Identifies the name of an organization."),
            s("division", "Identifies the name of a division."),
            s("department", "Identifies the name of a department."),
            attr("manager", AttrType::Complex, "The user's manager.").subs(vec![
                s(
                    "value",
                    "The id of the SCIM resource representing the user's manager.",
                ),
                attr(
                    "$ref",
                    AttrType::Reference,
                    "The URI of the SCIM resource of the manager.",
                )
                .refs(&["User"]),
                s("displayName", "The displayName of the user's manager.")
                    .mutability(Mutability::ReadOnly),
            ]),
        ],
    }
}

fn group_schema() -> SchemaDef {
    SchemaDef {
        id: GROUP_URN,
        name: "Group",
        description: "Group",
        attributes: vec![
            string(
                "displayName",
                "A human-readable name for the Group. REQUIRED; unique within the tenant.",
            )
            .required()
            .unique(Uniqueness::Server),
            attr(
                "members",
                AttrType::Complex,
                "A list of members of the Group.",
            )
            .multi()
            .subs(vec![
                string("value", "Identifier of the member of this Group.")
                    .case_exact()
                    .mutability(Mutability::Immutable),
                attr(
                    "$ref",
                    AttrType::Reference,
                    "The URI of the member resource.",
                )
                .refs(&["User", "Group"])
                .mutability(Mutability::Immutable),
                string("display", "A human-readable name of the member.")
                    .mutability(Mutability::ReadOnly),
                string("type", "The type of the member.")
                    .canonical(&["User", "Group"])
                    .mutability(Mutability::Immutable),
            ]),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> AttrPath {
        AttrPath::parse(text).expect("test path parses")
    }

    #[test]
    fn core_user_has_every_rfc_7643_section_4_1_attribute() {
        let user = registry().schema(USER_URN).expect("user schema");
        for name in [
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "password",
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
            assert!(user.attr(name).is_some(), "missing {name}");
        }
        for multi in [
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "entitlements",
            "roles",
            "x509Certificates",
        ] {
            let a = user.attr(multi).expect("attr");
            assert!(a.multi_valued);
            for sub in ["value", "display", "type", "primary"] {
                assert!(a.sub(sub).is_some(), "{multi}.{sub}");
            }
        }
    }

    #[test]
    fn password_is_write_only_and_never_returned() {
        let pw = registry()
            .schema(USER_URN)
            .and_then(|s| s.attr("password"))
            .expect("password");
        assert_eq!(pw.returned, Returned::Never);
        assert_eq!(pw.mutability, Mutability::WriteOnly);
    }

    #[test]
    fn group_members_have_value_ref_display_and_type() {
        let members = registry()
            .schema(GROUP_URN)
            .and_then(|s| s.attr("members"))
            .expect("members");
        for sub in ["value", "$ref", "display", "type"] {
            assert!(members.sub(sub).is_some(), "members.{sub}");
        }
    }

    #[test]
    fn enterprise_manager_has_value_ref_and_read_only_display_name() {
        let manager = registry()
            .schema(ENTERPRISE_USER_URN)
            .and_then(|s| s.attr("manager"))
            .expect("manager");
        assert!(manager.sub("value").is_some());
        assert!(manager.sub("$ref").is_some());
        assert_eq!(
            manager.sub("displayName").map(|d| d.mutability),
            Some(Mutability::ReadOnly)
        );
    }

    #[test]
    fn lookup_is_case_insensitive_and_returns_the_canonical_name() {
        let r = registry();
        let found = r.resolve(r.user(), &path("USERNAME")).expect("resolves");
        assert_eq!(found.canonical(), "userName");
        let found = r
            .resolve(r.user(), &path("name.GIVENNAME"))
            .expect("resolves");
        assert_eq!(found.canonical(), "name.givenName");
        assert_eq!(found.ty(), AttrType::String);
    }

    #[test]
    fn urn_qualified_names_resolve_to_their_schema() {
        let r = registry();
        let found = r
            .resolve(
                r.user(),
                &path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
            )
            .expect("resolves");
        assert!(found.extension);
        assert_eq!(found.top_key(), ENTERPRISE_USER_URN);
        let core = r
            .resolve(
                r.user(),
                &path("urn:ietf:params:scim:schemas:core:2.0:User:userName"),
            )
            .expect("resolves");
        assert!(!core.extension);
        assert_eq!(core.canonical(), "userName");
    }

    #[test]
    fn unknown_schemas_and_attributes_are_distinguished() {
        let r = registry();
        assert!(matches!(
            r.resolve(r.group(), &path("urn:example:custom:2.0:Group:foo")),
            Err(ResolveError::UnknownSchema(_))
        ));
        assert!(matches!(
            r.resolve(r.user(), &path("shoeSize")),
            Err(ResolveError::UnknownAttribute(_))
        ));
        assert!(matches!(
            r.resolve(r.user(), &path("name.shoe")),
            Err(ResolveError::UnknownAttribute(_))
        ));
    }

    #[test]
    fn case_exact_comes_from_the_registry() {
        let r = registry();
        assert!(r.resolve(r.user(), &path("id")).expect("id").case_exact());
        assert!(r
            .resolve(r.user(), &path("externalId"))
            .expect("externalId")
            .case_exact());
        assert!(!r
            .resolve(r.user(), &path("userName"))
            .expect("userName")
            .case_exact());
        assert!(r
            .resolve(r.group(), &path("members.value"))
            .expect("members.value")
            .case_exact());
    }

    #[test]
    fn the_static_urn_list_names_every_schema_of_the_registry() {
        let ids: Vec<&str> = registry().schemas.iter().map(|s| s.id).collect();
        assert_eq!(ids, crate::scim::urn::SCHEMA_URNS);
    }
}
