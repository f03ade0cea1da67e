//! The `perfcorr` binary; everything lives in [`perfcorr::cli`].

fn main() -> std::process::ExitCode {
    perfcorr::cli::main()
}
