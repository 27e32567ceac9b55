//! Instance → Sign-in providers: the OpenID Connect providers people sign in through
//! (superadmins only).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::ui::components::{Banners, Card, EmptyState, PageHeader};

#[component]
pub fn OidcProvidersPage() -> impl IntoView {
    view! {
        <Title text="Sign-in providers · Roster"/>
        <PageHeader title="Sign-in providers" subtitle="OpenID Connect providers (authentik, Okta, Entra ID, Keycloak) people sign in through."/>
        <Banners/>
        <Card>
            <EmptyState title="No sign-in providers yet" body="Add a provider to show a “Sign in with …” button on the sign-in page."/>
        </Card>
    }
}
