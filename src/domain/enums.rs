//! The three enumerations of `remoteActionAudit`, described as data.
//!
//! Graph serialises enum members by name and orders them by their numeric
//! value. Storage keeps the numeric value, so `$orderby` and `gt`/`lt` follow
//! the members' declared values, and the name is only used at the edges.
//!
//! `remoteAction` is an *evolvable enum*: members declared after the
//! `unknownFutureValue` sentinel are hidden from clients that did not ask for
//! them with `Prefer: include-unknown-enum-members`.

/// One member of an enumeration: its Graph name and numeric value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumMember {
    pub name: &'static str,
    pub value: i64,
}

/// An enumeration type of the Graph schema.
#[derive(Debug, PartialEq, Eq)]
pub struct EnumType {
    /// The unqualified type name, as in `remoteAction`.
    pub name: &'static str,
    /// Members in declaration order.
    pub members: &'static [EnumMember],
    /// The value of `unknownFutureValue`, for evolvable enums.
    pub sentinel: Option<i64>,
}

/// How a client named an enum member, judged by the evolvable-enum rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberLookup {
    /// An ordinary member, usable as is.
    Member(i64),
    /// The `unknownFutureValue` sentinel itself.
    Sentinel,
    /// A member after the sentinel, named without the opt-in preference.
    HiddenMember,
    /// No member has this name (names are case-sensitive).
    NotFound,
}

impl EnumType {
    /// The namespace-qualified name, as in `microsoft.graph.remoteAction`.
    pub fn qualified_name(&self) -> String {
        format!("microsoft.graph.{}", self.name)
    }

    /// Finds a member by its exact, case-sensitive name.
    pub fn lookup(&self, name: &str, include_unknown_members: bool) -> MemberLookup {
        let Some(member) = self.members.iter().find(|m| m.name == name) else {
            return MemberLookup::NotFound;
        };

        match self.sentinel {
            Some(sentinel) if member.value == sentinel => MemberLookup::Sentinel,
            Some(sentinel) if member.value > sentinel && !include_unknown_members => {
                MemberLookup::HiddenMember
            }
            _ => MemberLookup::Member(member.value),
        }
    }

    /// The name a client sees for `value`: members after the sentinel read as
    /// `unknownFutureValue` unless the client opted in to them.
    pub fn render(&self, value: i64, include_unknown_members: bool) -> &'static str {
        if let Some(sentinel) = self.sentinel
            && value > sentinel
            && !include_unknown_members
        {
            return "unknownFutureValue";
        }

        self.members
            .iter()
            .find(|m| m.value == value)
            .map_or("unknownFutureValue", |m| m.name)
    }

    /// Whether `value` is one of the members.
    pub fn contains_value(&self, value: i64) -> bool {
        self.members.iter().any(|m| m.value == value)
    }
}

const fn member(name: &'static str, value: i64) -> EnumMember {
    EnumMember { name, value }
}

/// `microsoft.graph.remoteAction`: the action an admin took on a device.
///
/// Values 30 and 31 are unused in the schema. The four newest members have
/// no documented value; they follow the last documented one in declaration
/// order.
pub static REMOTE_ACTION: EnumType = EnumType {
    name: "remoteAction",
    sentinel: Some(33),
    members: &[
        member("unknown", 0),
        member("factoryReset", 1),
        member("removeCompanyData", 2),
        member("resetPasscode", 3),
        member("remoteLock", 4),
        member("enableLostMode", 5),
        member("disableLostMode", 6),
        member("locateDevice", 7),
        member("rebootNow", 8),
        member("recoverPasscode", 9),
        member("cleanWindowsDevice", 10),
        member("logoutSharedAppleDeviceActiveUser", 11),
        member("quickScan", 12),
        member("fullScan", 13),
        member("windowsDefenderUpdateSignatures", 14),
        member("factoryResetKeepEnrollmentData", 15),
        member("updateDeviceAccount", 16),
        member("automaticRedeployment", 17),
        member("shutDown", 18),
        member("rotateBitLockerKeys", 19),
        member("rotateFileVaultKey", 20),
        member("getFileVaultKey", 21),
        member("setDeviceName", 22),
        member("activateDeviceEsim", 23),
        member("deprovision", 24),
        member("disable", 25),
        member("reenable", 26),
        member("moveDeviceToOrganizationalUnit", 27),
        member("initiateMobileDeviceManagementKeyRecovery", 28),
        member("initiateOnDemandProactiveRemediation", 29),
        member("rotateLocalAdminPassword", 32),
        member("unknownFutureValue", 33),
        member("launchRemoteHelp", 34),
        member("revokeAppleVppLicenses", 35),
        member("removeDeviceFirmwareConfigurationInterfaceManagement", 36),
        member("pauseConfigurationRefresh", 37),
        member("initiateDeviceAttestation", 38),
        member("changeAssignments", 39),
        member("delete", 40),
        member("suspendManagedHomeScreen", 41),
        member("restoreManagedHomeScreen", 42),
        member("triggerEnhancedLogCollection", 43),
        member("cancelEnhancedLogCollection", 44),
    ],
};

/// `microsoft.graph.actionState`: where the action stands.
pub static ACTION_STATE: EnumType = EnumType {
    name: "actionState",
    sentinel: None,
    members: &[
        member("none", 0),
        member("pending", 1),
        member("canceled", 2),
        member("active", 3),
        member("done", 4),
        member("failed", 5),
        member("notSupported", 6),
    ],
};

/// `microsoft.graph.deviceActionCategory`: one device or a bulk action.
pub static DEVICE_ACTION_CATEGORY: EnumType = EnumType {
    name: "deviceActionCategory",
    sentinel: None,
    members: &[member("single", 0), member("bulk", 1)],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_action_has_every_member_of_the_schema() {
        assert_eq!(REMOTE_ACTION.members.len(), 43);
    }

    #[test]
    fn member_names_are_case_sensitive() {
        assert_eq!(ACTION_STATE.lookup("done", false), MemberLookup::Member(4));
        assert_eq!(ACTION_STATE.lookup("Done", false), MemberLookup::NotFound);
    }

    #[test]
    fn members_after_the_sentinel_need_the_opt_in() {
        assert_eq!(
            REMOTE_ACTION.lookup("delete", false),
            MemberLookup::HiddenMember
        );
        assert_eq!(
            REMOTE_ACTION.lookup("delete", true),
            MemberLookup::Member(40)
        );
        assert_eq!(
            REMOTE_ACTION.lookup("unknownFutureValue", true),
            MemberLookup::Sentinel
        );
        assert_eq!(REMOTE_ACTION.render(40, false), "unknownFutureValue");
        assert_eq!(REMOTE_ACTION.render(40, true), "delete");
        assert_eq!(REMOTE_ACTION.render(32, false), "rotateLocalAdminPassword");
    }
}
