//! The `roster` binary: the server (`roster serve`, the default) and the admin CLI.

fn main() -> std::process::ExitCode {
    let setting = std::env::var("TOKIO_WORKER_THREADS").ok();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let threads = match roster::config::worker_threads(setting.as_deref(), cores) {
        Ok(threads) => threads,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(roster::cli::run()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
