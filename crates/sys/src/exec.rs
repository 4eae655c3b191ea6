//! Replacing the process image with `execve(2)` while keeping the signal mask, pending
//! signals and children: how PID 1 re-executes itself (std's `exec` would unblock every
//! signal first, and a signal arriving in between would be lost or take its default
//! action).

use std::ffi::CString;
use std::io;

/// Executes `path` with `argv` and `env`; returns only on failure.
pub fn execve(path: &CString, argv: &[CString], env: &[CString]) -> io::Error {
    let argv: Vec<*const libc::c_char> = argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let env: Vec<*const libc::c_char> = env
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    // SAFETY: path, and every element of argv and env, are valid NUL-terminated strings
    // alive for the call; both arrays end with a null pointer.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), env.as_ptr()) };
    io::Error::last_os_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_is_an_error() {
        let e = execve(&CString::new("/nonexistent/x").unwrap(), &[], &[]);
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    }
}
