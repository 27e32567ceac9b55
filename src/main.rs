//! The `roster` binary: the server (`roster serve`, the default) and the admin CLI.

/// See `Cargo.toml` for why the server does not use the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    roster::cli::run().await
}
