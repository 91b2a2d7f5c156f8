//! The limits that keep the server up.
