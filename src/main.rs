//! The `roster` binary: the server (`roster serve`, the default) and the admin CLI.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    roster::cli::run().await
}
