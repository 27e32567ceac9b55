//! The `roster` binary: the server (`roster serve`, the default) and the admin CLI.

/// The runtime's worker threads: `TOKIO_WORKER_THREADS` when set, else half the cores, at least
/// one. The other half is left to the database's own threads (SQLite's connection threads, or a
/// PostgreSQL server on the same machine): on 2 cores a second worker mostly woke up to steal a
/// task from the first, 30–40 % more context switches a write and 2–15 % more CPU a request
/// (README, Performance). A value that is not a positive number is refused, like every setting.
fn worker_threads(setting: Option<&str>, cores: usize) -> Result<usize, String> {
    match setting {
        None => Ok((cores / 2).max(1)),
        Some(value) => match value.trim().parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => Ok(n),
            _ => Err(format!(
                "TOKIO_WORKER_THREADS={value:?} is not a number of threads from 1 to 1024; \
                 set one, or unset it for half the cores"
            )),
        },
    }
}

fn main() -> std::process::ExitCode {
    let setting = std::env::var("TOKIO_WORKER_THREADS").ok();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let threads = match worker_threads(setting.as_deref(), cores) {
        Ok(threads) => threads,
        Err(message) => {
            eprintln!("error: {message}");
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

#[cfg(test)]
mod tests {
    use super::worker_threads;

    #[test]
    fn half_the_cores_at_least_one_unless_set() {
        assert_eq!(worker_threads(None, 2), Ok(1));
        assert_eq!(worker_threads(None, 1), Ok(1));
        assert_eq!(worker_threads(None, 8), Ok(4));
        assert_eq!(worker_threads(None, 5), Ok(2));
        assert_eq!(worker_threads(Some("3"), 2), Ok(3));
        assert_eq!(worker_threads(Some(" 2 "), 8), Ok(2));
    }

    #[test]
    fn a_bad_setting_is_refused_with_the_fix() {
        for bad in ["0", "many", "", "-1", "2000"] {
            let message = worker_threads(Some(bad), 8).unwrap_err();
            assert!(message.contains("TOKIO_WORKER_THREADS"), "{message}");
            assert!(message.contains("1 to 1024"), "{message}");
        }
    }
}
