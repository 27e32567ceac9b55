//! The Sign-in providers page's server functions (superadmins only).
