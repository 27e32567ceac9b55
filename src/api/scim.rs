//! Tenant → IAM → SCIM Provisioning: integrations, their tokens and their request log.
