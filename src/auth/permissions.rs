//! Which Graph permissions allow which requests.
//!
//! The mapping is the one Graph publishes for
//! `/deviceManagement/remoteActionAudits`: reading accepts any of four
//! permissions, writing (create, update, delete) only the two `ReadWrite`
//! ones. Delegated tokens carry permissions in `scp` (space-separated), and
//! application tokens in `roles`; both count the same here.

use axum::http::Method;

/// Read device configuration (the least privileged permission for reads).
pub const CONFIGURATION_READ: &str = "DeviceManagementConfiguration.Read.All";
/// Read and write device configuration (the least privileged for writes).
pub const CONFIGURATION_READ_WRITE: &str = "DeviceManagementConfiguration.ReadWrite.All";
/// Read managed devices.
pub const MANAGED_DEVICES_READ: &str = "DeviceManagementManagedDevices.Read.All";
/// Read and write managed devices.
pub const MANAGED_DEVICES_READ_WRITE: &str = "DeviceManagementManagedDevices.ReadWrite.All";

/// What a request does to the entity set, as far as permissions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    /// `GET`, `HEAD` and `OPTIONS` read; every other method writes.
    pub fn of_method(method: &Method) -> Access {
        if [Method::GET, Method::HEAD, Method::OPTIONS].contains(method) {
            Access::Read
        } else {
            Access::Write
        }
    }

    /// The permissions any one of which allows this access.
    pub fn accepted_permissions(self) -> &'static [&'static str] {
        match self {
            Access::Read => &[
                CONFIGURATION_READ,
                CONFIGURATION_READ_WRITE,
                MANAGED_DEVICES_READ,
                MANAGED_DEVICES_READ_WRITE,
            ],
            Access::Write => &[CONFIGURATION_READ_WRITE, MANAGED_DEVICES_READ_WRITE],
        }
    }

    /// Whether `granted` holds one of the accepted permissions. Names are
    /// compared exactly, as Graph spells them.
    pub fn is_allowed_by<S: AsRef<str>>(self, granted: &[S]) -> bool {
        let accepted = self.accepted_permissions();
        granted.iter().any(|p| accepted.contains(&p.as_ref()))
    }

    /// The message of the 403 for a token without an accepted permission.
    pub fn insufficient_privileges_message(self) -> String {
        format!(
            "Insufficient privileges to complete the operation. This request needs one of: {}.",
            self.accepted_permissions().join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_accept_each_of_the_four_permissions() {
        for permission in [
            CONFIGURATION_READ,
            CONFIGURATION_READ_WRITE,
            MANAGED_DEVICES_READ,
            MANAGED_DEVICES_READ_WRITE,
        ] {
            assert!(Access::Read.is_allowed_by(&[permission]), "{permission}");
        }
    }

    #[test]
    fn writes_accept_only_the_read_write_permissions() {
        assert!(Access::Write.is_allowed_by(&[CONFIGURATION_READ_WRITE]));
        assert!(Access::Write.is_allowed_by(&[MANAGED_DEVICES_READ_WRITE]));
        assert!(!Access::Write.is_allowed_by(&[CONFIGURATION_READ, MANAGED_DEVICES_READ]));
    }

    #[test]
    fn names_are_compared_exactly() {
        assert!(!Access::Read.is_allowed_by(&["devicemanagementconfiguration.read.all"]));
        assert!(!Access::Read.is_allowed_by(&["User.Read"]));
        assert!(!Access::Read.is_allowed_by::<&str>(&[]));
    }

    #[test]
    fn methods_map_to_reads_and_writes() {
        assert_eq!(Access::of_method(&Method::GET), Access::Read);
        assert_eq!(Access::of_method(&Method::HEAD), Access::Read);
        for method in [Method::POST, Method::PATCH, Method::PUT, Method::DELETE] {
            assert_eq!(Access::of_method(&method), Access::Write);
        }
    }

    #[test]
    fn the_forbidden_message_names_the_permissions_that_would_do() {
        assert_eq!(
            Access::Write.insufficient_privileges_message(),
            "Insufficient privileges to complete the operation. This request needs one of: \
             DeviceManagementConfiguration.ReadWrite.All, \
             DeviceManagementManagedDevices.ReadWrite.All."
        );
    }
}
