//! The `perfcorr` binary; everything lives in [`perfcorr::cli`].

/// mimalloc, as datafusion-cli: Arrow and Parquet allocate and free large
/// buffers per batch, which the system allocator hands back to the kernel
/// and faults in again.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    perfcorr::cli::main()
}
