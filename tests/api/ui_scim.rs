//! The SCIM Provisioning page's server functions: permissions, forms, tokens shown once.
