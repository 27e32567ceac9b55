# shellcheck shell=bash
# Shared settings for scripts/install, scripts/run, scripts/test and scripts/postgres.
# Sourced, never run; safe to source more than once. Its variables are used by those scripts.
# shellcheck disable=SC2034

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# Compiled dependencies live OUTSIDE the clone so fresh clones (CI) reuse them.
# cargo-leptos puts the server binary at $CARGO_TARGET_DIR/release/roster and the wasm build
# under $CARGO_TARGET_DIR/front; the site (site-root = "target/site" in Cargo.toml) stays
# relative to the project: $ROOT/target/site.
export ROSTER_CACHE_DIR="${ROSTER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/roster}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROSTER_CACHE_DIR/target}"
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
ROSTER_BIN_DEFAULT="$CARGO_TARGET_DIR/release/roster"
# Test builds: line tables only (panics and backtraces keep file:line) make the debug build a
# fraction of the size on disk and link faster. CI builds each clone's crate afresh, so
# incremental data would only take disk there.
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}"
if [[ -n "${CI:-}" ]]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi

# Tools cargo-leptos looks up on PATH: tailwindcss and wasm-opt come from the npm packages in
# $ROOT/package.json; cargo-leptos and wasm-bindgen from `cargo install`.
path_prepend() { case ":$PATH:" in *":$1:"*) ;; *) PATH="$1:$PATH" ;; esac; }
path_prepend "$CARGO_HOME/bin"
path_prepend "$ROOT/node_modules/.bin"
export PATH

# The toolchain pinned in rust-toolchain.toml (channel = "1.96.0").
RUST_CHANNEL="$(sed -n 's/^[[:space:]]*channel[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$ROOT/rust-toolchain.toml")"

# When rustup could not download, scripts/install-debian-toolchain sets up Debian's rustc-web
# as a rustup custom toolchain and leaves this marker; use that toolchain instead of the pin.
# (Empty marker: no rustup at all, so /usr/bin/cargo is used through PATH.)
DEBIAN_TOOLCHAIN_MARKER="$ROSTER_CACHE_DIR/debian-toolchain"
if [[ -s "$DEBIAN_TOOLCHAIN_MARKER" && -z "${RUSTUP_TOOLCHAIN:-}" ]] && command -v rustup >/dev/null 2>&1; then
  RUSTUP_TOOLCHAIN="$(cat "$DEBIAN_TOOLCHAIN_MARKER")"
  export RUSTUP_TOOLCHAIN
fi

# claim_target_dir: call before building. CARGO_TARGET_DIR is shared by every checkout (so a fresh
# clone reuses the compiled dependencies), which needs two guards:
#  * one build at a time: an exclusive lock, held until the script exits (or release_target_dir);
#  * no mix-ups between checkouts: the crate's own artifacts (libroster.rlib, roster.wasm, ...) have
#    the same names for every checkout, and cargo judges them fresh by file times, so another
#    checkout's build can pass for this one's. When the last user was another checkout, this
#    removes the `roster` package's artifacts (dependencies stay) so it is rebuilt from this one.
claim_target_dir() {
  mkdir -p "$CARGO_TARGET_DIR"
  exec {ROSTER_LOCK_FD}>"$CARGO_TARGET_DIR/.roster-lock"
  if ! flock -n "$ROSTER_LOCK_FD"; then
    say "waiting for the build dir $CARGO_TARGET_DIR, in use by: $(cat "$CARGO_TARGET_DIR/.roster-lock-owner" 2>/dev/null || echo '?')"
    flock "$ROSTER_LOCK_FD"
  fi
  echo "$ROOT (pid $$, $(date '+%F %T'))" >"$CARGO_TARGET_DIR/.roster-lock-owner"
  local stamp="$CARGO_TARGET_DIR/.roster-checkout" last
  last="$(cat "$stamp" 2>/dev/null || true)"
  if [[ "$last" != "$ROOT" ]]; then
    if [[ -d "$CARGO_TARGET_DIR/debug" || -d "$CARGO_TARGET_DIR/release" || -d "$CARGO_TARGET_DIR/front" ]]; then
      say "build dir last used by ${last:-another checkout}: rebuilding the roster crate (dependencies stay)"
      # Drop the crate's fingerprints in every profile (dev, test, release, wasm-release under
      # front/...): cargo then rebuilds all its units from this checkout. (`cargo clean -p`
      # leaves the custom wasm-release profile alone.)
      find "$CARGO_TARGET_DIR" -mindepth 3 -maxdepth 5 -type d -name 'roster-*' \
        \( -path '*/.fingerprint/*' -o -path '*/incremental/*' \) -prune -exec rm -rf {} +
    fi
    echo "$ROOT" >"$stamp"
  fi
}
release_target_dir() {
  if [[ -n "${ROSTER_LOCK_FD:-}" ]]; then
    exec {ROSTER_LOCK_FD}>&-
    unset ROSTER_LOCK_FD
  fi
}

# apt/sudo helpers.
export DEBIAN_FRONTEND=noninteractive
if [[ "$(id -u)" -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi

say()  { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# The wasm-bindgen version locked in Cargo.lock (wasm-bindgen-cli must match it exactly).
wasm_bindgen_lock_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}
