//! Your account: who you are signed in as, what you can enter and through which roles, your
//! password, and every browser you are signed in from, each of which you can sign out.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{
    get_account, AccountPage, ChangePassword, EndOtherSessions, EndSession, SessionItem,
    TenantRoles,
};
use crate::api::sign_ins::SignInItem;
use crate::ui::components::{
    error_text, Banners, Card, ErrorPanel, Field, Loading, PageHeader, PRIMARY_BUTTON,
    SECONDARY_BUTTON,
};
use crate::ui::pages::sign_ins::SignInCells;
use crate::ui::widgets::{Badge, EmailList, Table, Time, Tone, DD, DT, LINK_CLASS, TD, TD_ACTIONS};

#[component]
pub fn AccountPage() -> impl IntoView {
    let password = ServerAction::<ChangePassword>::new();
    let end = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let page = Resource::new(
        move || {
            (
                password.version().get(),
                end.version().get(),
                end_others.version().get(),
            )
        },
        |_| get_account(),
    );
    view! {
        <Title text="Your account · Roster"/>
        <PageHeader title="Your account"
            subtitle="Who you are here, what you can enter, your password, and where you are signed in."/>
        <Banners hide_field_errors=true/>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(a) => view! { <Account a password end end_others/> }.into_any(),
                    Err(e) => view! { <ErrorPanel message=error_text(&e)/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Account(
    a: AccountPage,
    password: ServerAction<ChangePassword>,
    end: ServerAction<EndSession>,
    end_others: ServerAction<EndOtherSessions>,
) -> impl IntoView {
    view! {
        <div class="grid gap-6 lg:grid-cols-2">
            <Profile a=a.clone()/>
            <PasswordCard has_password=a.has_password providers=a.providers.clone() password/>
        </div>
        <Tenants tenants=a.tenants.clone() is_superadmin=a.is_superadmin/>
        <Sessions sessions=a.sessions end end_others/>
        <SignIns sign_ins=a.sign_ins/>
    }
}

#[component]
fn Profile(a: AccountPage) -> impl IntoView {
    let emails = a.emails.clone();
    let methods = a
        .has_password
        .then(|| "Password".to_string())
        .into_iter()
        .chain(a.providers.iter().map(|p| format!("{p} (single sign-on)")))
        .collect::<Vec<_>>();
    view! {
        <Card class="p-6">
            <div class="flex items-start justify-between gap-3">
                <h2 class="text-base font-semibold text-slate-900">"Profile"</h2>
                {a.is_superadmin.then(|| view! { <Badge text="Superadmin" tone=Tone::Brand/> })}
            </div>
            <dl class="mt-4 grid grid-cols-1 gap-4 sm:grid-cols-2">
                <div><dt class=DT>"Username"</dt><dd class=format!("{DD} font-mono break-all")>{a.username.clone()}</dd></div>
                <div><dt class=DT>"Display name"</dt><dd class=DD>{a.display_name.clone().unwrap_or_else(|| "—".into())}</dd></div>
                <div class="sm:col-span-2"><dt class=DT>"Emails"</dt>
                    <dd class=DD><EmailList emails/></dd>
                </div>
                <div class="sm:col-span-2"><dt class=DT>"Signs in with"</dt>
                    <dd class=format!("{DD} flex flex-wrap gap-2")>
                        {if methods.is_empty() {
                            view! { <span class="text-slate-400">"Nothing yet"</span> }.into_any()
                        } else {
                            methods.into_iter().map(|m| view! { <Badge text=m/> }).collect_view().into_any()
                        }}
                    </dd>
                </div>
            </dl>
            <p class="mt-4 text-xs text-slate-500">"Your name and emails come from your identity provider or an administrator; change them there."</p>
        </Card>
    }
}

#[component]
fn PasswordCard(
    has_password: bool,
    providers: Vec<String>,
    password: ServerAction<ChangePassword>,
) -> impl IntoView {
    if !has_password {
        let through = if providers.is_empty() {
            "single sign-on".to_string()
        } else {
            providers.join(" or ")
        };
        return view! {
            <Card class="p-6">
                <h2 class="text-base font-semibold text-slate-900">"Password"</h2>
                <p class="mt-2 text-sm text-slate-600">
                    {format!("You have no password here: you sign in through {through}. An administrator can set one if you need it.")}
                </p>
            </Card>
        }
        .into_any();
    }
    view! {
        <Card class="p-6">
            <h2 class="text-base font-semibold text-slate-900">"Change password"</h2>
            <p class="mt-1 text-sm text-slate-500">"Every other browser you are signed in from is signed out; this one stays signed in."</p>
            <ActionForm action=password attr:class="mt-4 space-y-4" attr:aria-label="Change password">
                <Field label="Current password" name="current_password" kind="password" required=true autocomplete="current-password"/>
                <Field label="New password" name="password" kind="password" required=true autocomplete="new-password" hint="At least 8 characters."/>
                <Field label="New password, again" name="password_confirm" kind="password" required=true autocomplete="new-password"/>
                <button type="submit" class=PRIMARY_BUTTON disabled=move || password.pending().get()>"Change password"</button>
            </ActionForm>
        </Card>
    }
    .into_any()
}

#[component]
fn Tenants(tenants: Vec<TenantRoles>, is_superadmin: bool) -> impl IntoView {
    let intro = if is_superadmin {
        "As a superadmin you may do everything in every tenant. The tenants you also belong to, and the roles you hold there:"
    } else {
        "The tenants you can enter, and the roles that give you permissions in each, bound to you or to a group you are in."
    };
    let body = if tenants.is_empty() {
        let none = if is_superadmin {
            "You hold no access of your own in any tenant: you enter them all as a superadmin."
        } else {
            "You belong to no tenant yet. An administrator, or your identity provider, gives you access."
        };
        view! { <p class="px-6 pb-6 text-sm text-slate-500">{none}</p> }.into_any()
    } else {
        view! {
            <Table headers=vec!["Tenant", "Your roles"] caption="Your tenants and roles">
                {tenants.into_iter().map(|t| {
                    let roles = if t.roles.is_empty() {
                        view! { <span class="text-slate-400">"No role: you can enter, and do nothing"</span> }.into_any()
                    } else {
                        view! { <ul class="flex flex-wrap gap-2">{t.roles.into_iter().map(|r| view! { <li><Badge text=r tone=Tone::Brand/></li> }).collect_view()}</ul> }.into_any()
                    };
                    let (testid, href) = (format!("account-tenant-{}", t.id), format!("/t/{}/iam/users", t.id));
                    view! {
                        <tr data-testid=testid>
                            <td class=TD>
                                <a href=href class=LINK_CLASS>{t.name}</a>
                                <span class="ml-2 font-mono text-xs text-slate-400">{t.id}</span>
                            </td>
                            <td class=TD>{roles}</td>
                        </tr>
                    }
                }).collect_view()}
            </Table>
        }
        .into_any()
    };
    view! { <TableCard title="Your tenants" intro>{body}</TableCard> }
}

/// A card of the page holding a table: its heading and a sentence about it above.
#[component]
fn TableCard(
    #[prop(into)] title: String,
    #[prop(into)] intro: String,
    children: Children,
) -> impl IntoView {
    view! {
        <Card class="mt-6 overflow-hidden">
            <div class="px-6 py-4">
                <h2 class="text-base font-semibold text-slate-900">{title}</h2>
                <p class="mt-1 text-sm text-slate-500">{intro}</p>
            </div>
            {children()}
        </Card>
    }
}

#[component]
fn Sessions(
    sessions: Vec<SessionItem>,
    end: ServerAction<EndSession>,
    end_others: ServerAction<EndOtherSessions>,
) -> impl IntoView {
    let others = sessions.iter().filter(|s| !s.current).count();
    let end_all = (others > 0).then(|| {
        view! {
            <ActionForm action=end_others>
                <button type="submit" class=SECONDARY_BUTTON disabled=move || end_others.pending().get()>
                    {if others == 1 { "Sign out the other session".to_string() } else { format!("Sign out all {others} other sessions") }}
                </button>
            </ActionForm>
        }
    });
    view! {
        <Card class="mt-6 overflow-hidden">
            <div class="flex flex-wrap items-start justify-between gap-4 px-6 py-4">
                <div>
                    <h2 class="text-base font-semibold text-slate-900">"Where you are signed in"</h2>
                    <p class="mt-1 text-sm text-slate-500">"Each sign-in lasts 12 hours. If you do not recognise one, sign it out and change your password."</p>
                </div>
                {end_all}
            </div>
            <Table headers=vec!["Browser", "Address", "How", "Signed in", "Ends", ""] caption="Your sessions">
                {sessions.into_iter().map(|s| view! { <SessionRow s end/> }).collect_view()}
            </Table>
        </Card>
    }
}

#[component]
fn SessionRow(s: SessionItem, end: ServerAction<EndSession>) -> impl IntoView {
    let action = if s.current {
        view! { <Badge text="This session" tone=Tone::Good/> }.into_any()
    } else {
        let aria = format!("Sign out {} at {}", s.browser, s.address);
        view! {
            <ActionForm action=end>
                <input type="hidden" name="handle" value=s.handle.clone()/>
                <button type="submit" class=SECONDARY_BUTTON aria-label=aria>"Sign out"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <tr data-testid="account-session" data-current=s.current.to_string()>
            <td class=TD><span title=s.user_agent.clone().unwrap_or_default()>{s.browser.clone()}</span></td>
            <td class=format!("{TD} font-mono")>{s.address.clone()}</td>
            <td class=TD>{s.method.clone()}</td>
            <td class=TD><Time at=s.signed_in_at.clone()/></td>
            <td class=TD><Time at=s.expires_at.clone()/></td>
            <td class=TD_ACTIONS>{action}</td>
        </tr>
    }
}

#[component]
fn SignIns(sign_ins: Vec<SignInItem>) -> impl IntoView {
    let failures = sign_ins.iter().filter(|s| s.failed).count();
    let summary = match failures {
        0 => "Your latest sign-ins and password changes.".to_string(),
        1 => "Your latest sign-ins, and 1 attempt that failed. If it was not you, change your password.".to_string(),
        n => format!("Your latest sign-ins, and {n} attempts that failed. If they were not you, change your password."),
    };
    let body = if sign_ins.is_empty() {
        view! { <p class="px-6 pb-6 text-sm text-slate-500">"Nothing recorded yet."</p> }.into_any()
    } else {
        view! {
            <Table headers=vec!["When", "What", "How", "Browser", "Address"] caption="Your recent sign-ins">
                {sign_ins.into_iter().map(|s| {
                    let (failed, at) = (s.failed.to_string(), s.at.clone());
                    view! {
                        <tr data-testid="account-sign-in" data-failed=failed>
                            <td class=TD><Time at/></td>
                            <SignInCells s/>
                        </tr>
                    }
                }).collect_view()}
            </Table>
        }
        .into_any()
    };
    view! { <TableCard title="Recent sign-ins" intro=summary>{body}</TableCard> }
}
