//! The Service Accounts page's server functions: accounts and tokens shown once.
