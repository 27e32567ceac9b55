//! Instance → Sign-in providers: the OpenID Connect providers people sign in through (superadmins).
