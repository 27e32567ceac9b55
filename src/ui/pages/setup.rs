//! First-run setup: creates the first superadmin while none exists.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::AuthFrame;
use crate::api::auth::Setup;
use crate::model::PASSWORD_MIN;
use crate::ui::components::{query_param, Banners, Field, PRIMARY_BUTTON};

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    view! {
        <Title text="Set up Roster"/>
        <AuthFrame title="Welcome to Roster" subtitle="Create the first superadmin. This account manages tenants and can administer every tenant.">
            <Banners hide_field_errors=true/>
            <ActionForm action=setup attr:class="space-y-4">
                <Field label="Username" name="username" required=true autocomplete="username" autofocus=true value=query_param("username")/>
                <Field label="Email (optional)" name="email" kind="email" autocomplete="email" value=query_param("email")/>
                <Field label="Password" name="password" kind="password" required=true autocomplete="new-password"
                    hint=format!("At least {PASSWORD_MIN} characters.")/>
                <Field label="Confirm password" name="password_confirm" kind="password" required=true autocomplete="new-password"/>
                <button type="submit" class=format!("{PRIMARY_BUTTON} w-full") disabled=move || setup.pending().get()>
                    "Create superadmin"
                </button>
            </ActionForm>
        </AuthFrame>
    }
}
