//! A panic inside perfcorr or a library it calls becomes a one-line error:
//! the hook keeps the message (instead of printing a multi-line report with
//! a backtrace), and whoever catches the panic (a query task, the main
//! thread) reports it as `internal error: …`.

use std::sync::Mutex;

static LAST: Mutex<Option<String>> = Mutex::new(None);

/// Installs the hook that keeps panic messages for [`take`].
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = message(info.payload());
        let location = info.location().map(|l| format!(" ({}:{})", l.file(), l.line())).unwrap_or_default();
        if let Ok(mut last) = LAST.lock() {
            *last = Some(format!("{message}{location}"));
        }
    }));
}

/// The message a panic carries, on one line.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_string());
    super::exec::one_line(&text)
}

/// The last panic's message as a one-line error.
pub fn take() -> String {
    let message = LAST.lock().ok().and_then(|mut last| last.take());
    format!("internal error (a bug in perfcorr or a library it uses; please report it): {}", message.unwrap_or_else(|| "unknown cause".to_string()))
}
