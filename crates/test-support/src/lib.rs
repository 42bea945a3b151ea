//! What m2sec's tests share.

/// A test needs `what` (a tool or a service the test script provides) and it is absent: under
/// `CI=true`, where the suite's command installs everything, that is a failure; elsewhere the check
/// is skipped, and says so.
pub fn missing(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is missing, and CI=true: the test command installs it, so its absence is an error");
    }
    eprintln!("skipped: {what} is missing");
}
