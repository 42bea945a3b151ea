//! Every operation of botocore's SSM model, implemented or not. m2sec implements Parameter Store; the
//! rest of Systems Manager answers `UnsupportedOperationException`. The test checks this list against
//! the model.

macro_rules! operations {
    ($($name:ident => $implemented:expr),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum SsmOperation { $($name),* }

        impl SsmOperation {
            pub const ALL: &'static [SsmOperation] = &[$(SsmOperation::$name),*];

            pub fn from_name(name: &str) -> Option<Self> {
                match name { $(stringify!($name) => Some(SsmOperation::$name),)* _ => None }
            }

            pub fn name(self) -> &'static str {
                match self { $(SsmOperation::$name => stringify!($name)),* }
            }

            /// Whether m2sec implements it; the others answer `UnsupportedOperationException`.
            pub fn implemented(self) -> bool {
                match self { $(SsmOperation::$name => $implemented),* }
            }

            /// The IAM action a caller needs, e.g. `ssm:GetParameter`.
            pub fn action(self) -> String {
                format!("ssm:{}", self.name())
            }
        }
    };
}

operations! {
    AddTagsToResource => true,
    AssociateOpsItemRelatedItem => false,
    CancelCommand => false,
    CancelMaintenanceWindowExecution => false,
    CreateActivation => false,
    CreateAssociation => false,
    CreateAssociationBatch => false,
    CreateDocument => false,
    CreateMaintenanceWindow => false,
    CreateOpsItem => false,
    CreateOpsMetadata => false,
    CreatePatchBaseline => false,
    CreateResourceDataSync => false,
    DeleteActivation => false,
    DeleteAssociation => false,
    DeleteDocument => false,
    DeleteInventory => false,
    DeleteMaintenanceWindow => false,
    DeleteOpsItem => false,
    DeleteOpsMetadata => false,
    DeleteParameter => true,
    DeleteParameters => true,
    DeletePatchBaseline => false,
    DeleteResourceDataSync => false,
    DeleteResourcePolicy => false,
    DeregisterManagedInstance => false,
    DeregisterPatchBaselineForPatchGroup => false,
    DeregisterTargetFromMaintenanceWindow => false,
    DeregisterTaskFromMaintenanceWindow => false,
    DescribeActivations => false,
    DescribeAssociation => false,
    DescribeAssociationExecutionTargets => false,
    DescribeAssociationExecutions => false,
    DescribeAutomationExecutions => false,
    DescribeAutomationStepExecutions => false,
    DescribeAvailablePatches => false,
    DescribeDocument => false,
    DescribeDocumentPermission => false,
    DescribeEffectiveInstanceAssociations => false,
    DescribeEffectivePatchesForPatchBaseline => false,
    DescribeInstanceAssociationsStatus => false,
    DescribeInstanceInformation => false,
    DescribeInstancePatchStates => false,
    DescribeInstancePatchStatesForPatchGroup => false,
    DescribeInstancePatches => false,
    DescribeInstanceProperties => false,
    DescribeInventoryDeletions => false,
    DescribeMaintenanceWindowExecutionTaskInvocations => false,
    DescribeMaintenanceWindowExecutionTasks => false,
    DescribeMaintenanceWindowExecutions => false,
    DescribeMaintenanceWindowSchedule => false,
    DescribeMaintenanceWindowTargets => false,
    DescribeMaintenanceWindowTasks => false,
    DescribeMaintenanceWindows => false,
    DescribeMaintenanceWindowsForTarget => false,
    DescribeOpsItems => false,
    DescribeParameters => true,
    DescribePatchBaselines => false,
    DescribePatchGroupState => false,
    DescribePatchGroups => false,
    DescribePatchProperties => false,
    DescribeSessions => false,
    DisassociateOpsItemRelatedItem => false,
    GetAccessToken => false,
    GetAutomationExecution => false,
    GetCalendarState => false,
    GetCommandInvocation => false,
    GetConnectionStatus => false,
    GetDefaultPatchBaseline => false,
    GetDeployablePatchSnapshotForInstance => false,
    GetDocument => false,
    GetExecutionPreview => false,
    GetInventory => false,
    GetInventorySchema => false,
    GetMaintenanceWindow => false,
    GetMaintenanceWindowExecution => false,
    GetMaintenanceWindowExecutionTask => false,
    GetMaintenanceWindowExecutionTaskInvocation => false,
    GetMaintenanceWindowTask => false,
    GetOpsItem => false,
    GetOpsMetadata => false,
    GetOpsSummary => false,
    GetParameter => true,
    GetParameterHistory => true,
    GetParameters => true,
    GetParametersByPath => true,
    GetPatchBaseline => false,
    GetPatchBaselineForPatchGroup => false,
    GetResourcePolicies => false,
    GetServiceSetting => false,
    LabelParameterVersion => true,
    ListAssociationVersions => false,
    ListAssociations => false,
    ListCommandInvocations => false,
    ListCommands => false,
    ListComplianceItems => false,
    ListComplianceSummaries => false,
    ListDocumentMetadataHistory => false,
    ListDocumentVersions => false,
    ListDocuments => false,
    ListInventoryEntries => false,
    ListNodes => false,
    ListNodesSummary => false,
    ListOpsItemEvents => false,
    ListOpsItemRelatedItems => false,
    ListOpsMetadata => false,
    ListResourceComplianceSummaries => false,
    ListResourceDataSync => false,
    ListTagsForResource => true,
    ModifyDocumentPermission => false,
    PutComplianceItems => false,
    PutInventory => false,
    PutParameter => true,
    PutResourcePolicy => false,
    RegisterDefaultPatchBaseline => false,
    RegisterPatchBaselineForPatchGroup => false,
    RegisterTargetWithMaintenanceWindow => false,
    RegisterTaskWithMaintenanceWindow => false,
    RemoveTagsFromResource => true,
    ResetServiceSetting => false,
    ResumeSession => false,
    SendAutomationSignal => false,
    SendCommand => false,
    StartAccessRequest => false,
    StartAssociationsOnce => false,
    StartAutomationExecution => false,
    StartChangeRequestExecution => false,
    StartExecutionPreview => false,
    StartSession => false,
    StopAutomationExecution => false,
    TerminateSession => false,
    UnlabelParameterVersion => true,
    UpdateAssociation => false,
    UpdateAssociationStatus => false,
    UpdateDocument => false,
    UpdateDocumentDefaultVersion => false,
    UpdateDocumentMetadata => false,
    UpdateMaintenanceWindow => false,
    UpdateMaintenanceWindowTarget => false,
    UpdateMaintenanceWindowTask => false,
    UpdateManagedInstanceRole => false,
    UpdateOpsItem => false,
    UpdateOpsMetadata => false,
    UpdatePatchBaseline => false,
    UpdateResourceDataSync => false,
    UpdateServiceSetting => false,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_operation_is_listed_and_nothing_else() {
        let mut from_model: Vec<&str> = crate::model().operation_names().collect();
        from_model.sort();
        let mut listed: Vec<&str> = SsmOperation::ALL.iter().map(|o| o.name()).collect();
        listed.sort();
        assert_eq!(from_model, listed);
        for op in SsmOperation::ALL {
            assert_eq!(SsmOperation::from_name(op.name()), Some(*op));
        }
        assert_eq!(
            SsmOperation::ALL.iter().filter(|o| o.implemented()).count(),
            13
        );
    }
}
