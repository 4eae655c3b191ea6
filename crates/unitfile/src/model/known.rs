//! The directives systemd 252 knows, per section, as printed by
//! `/usr/lib/systemd/systemd --dump-configuration-items` on Debian 12. A directive listed
//! here that the typed model does not handle is "recognized, not supported yet": it is kept
//! and reported with a warning, never as an error, so a valid line of a real unit file never
//! fails to load.

/// `(section, space-separated directive names)`.
pub const KNOWN: &[(&str, &str)] = &[
    (
        "Automount",
        "DirectoryMode ExtraOptions TimeoutIdleSec Where",
    ),
    ("Install", "Alias Also DefaultInstance RequiredBy WantedBy"),
    (
        "Mount",
        "AllowedCPUs AllowedMemoryNodes AmbientCapabilities AppArmorProfile BPFProgram \
         BindPaths BindReadOnlyPaths BlockIOAccounting BlockIODeviceWeight \
         BlockIOReadBandwidth BlockIOWeight BlockIOWriteBandwidth CPUAccounting CPUAffinity \
         CPUQuota CPUQuotaPeriodSec CPUSchedulingPolicy CPUSchedulingPriority \
         CPUSchedulingResetOnFork CPUShares CPUWeight CacheDirectory CacheDirectoryMode \
         CapabilityBoundingSet ConfigurationDirectory ConfigurationDirectoryMode \
         CoredumpFilter DefaultMemoryLow DefaultMemoryMin Delegate DeviceAllow DevicePolicy \
         DirectoryMode DisableControllers DynamicUser Environment EnvironmentFile ExecPaths \
         ExecSearchPath ExtensionDirectories ExtensionImages FinalKillSignal ForceUnmount \
         Group IOAccounting IODeviceLatencyTargetSec IODeviceWeight IOReadBandwidthMax \
         IOReadIOPSMax IOSchedulingClass IOSchedulingPriority IOWeight IOWriteBandwidthMax \
         IOWriteIOPSMax IPAccounting IPAddressAllow IPAddressDeny IPCNamespacePath \
         IPEgressFilterPath IPIngressFilterPath IgnoreSIGPIPE InaccessibleDirectories \
         InaccessiblePaths KeyringMode KillMode KillSignal LazyUnmount LimitAS LimitCORE \
         LimitCPU LimitDATA LimitFSIZE LimitLOCKS LimitMEMLOCK LimitMSGQUEUE LimitNICE \
         LimitNOFILE LimitNPROC LimitRSS LimitRTPRIO LimitRTTIME LimitSIGPENDING LimitSTACK \
         LoadCredential LoadCredentialEncrypted LockPersonality LogExtraFields LogLevelMax \
         LogNamespace LogRateLimitBurst LogRateLimitIntervalSec LogsDirectory \
         LogsDirectoryMode ManagedOOMMemoryPressure ManagedOOMMemoryPressureLimit \
         ManagedOOMPreference ManagedOOMSwap MemoryAccounting MemoryDenyWriteExecute \
         MemoryHigh MemoryLimit MemoryLow MemoryMax MemoryMin MemorySwapMax MountAPIVFS \
         MountFlags MountImages NUMAMask NUMAPolicy NetworkNamespacePath Nice NoExecPaths \
         NoNewPrivileges OOMScoreAdjust Options PAMName PassEnvironment Personality \
         PrivateDevices PrivateIPC PrivateMounts PrivateNetwork PrivateTmp PrivateUsers \
         ProcSubset ProtectClock ProtectControlGroups ProtectHome ProtectHostname \
         ProtectKernelLogs ProtectKernelModules ProtectKernelTunables ProtectProc \
         ProtectSystem ReadOnlyDirectories ReadOnlyPaths ReadWriteDirectories ReadWriteOnly \
         ReadWritePaths RemoveIPC RestartKillSignal RestrictAddressFamilies \
         RestrictFileSystems RestrictNamespaces RestrictNetworkInterfaces RestrictRealtime \
         RestrictSUIDSGID RootDirectory RootHash RootHashSignature RootImage RootImageOptions \
         RootVerity RuntimeDirectory RuntimeDirectoryMode RuntimeDirectoryPreserve \
         SELinuxContext SecureBits SendSIGHUP SendSIGKILL SetCredential \
         SetCredentialEncrypted Slice SloppyOptions SmackProcessLabel SocketBindAllow \
         SocketBindDeny StandardError StandardInput StandardInputData StandardInputText \
         StandardOutput StartupAllowedCPUs StartupAllowedMemoryNodes StartupBlockIOWeight \
         StartupCPUShares StartupCPUWeight StartupIOWeight StateDirectory StateDirectoryMode \
         SupplementaryGroups SyslogFacility SyslogIdentifier SyslogLevel SyslogLevelPrefix \
         SystemCallArchitectures SystemCallErrorNumber SystemCallFilter SystemCallLog \
         TTYColumns TTYPath TTYReset TTYRows TTYVHangup TTYVTDisallocate TasksAccounting \
         TasksMax TemporaryFileSystem TimeoutCleanSec TimeoutSec TimerSlackNSec Type UMask \
         UnsetEnvironment User UtmpIdentifier UtmpMode WatchdogSignal What Where \
         WorkingDirectory",
    ),
    (
        "Path",
        "DirectoryMode DirectoryNotEmpty MakeDirectory PathChanged PathExists PathExistsGlob \
         PathModified TriggerLimitBurst TriggerLimitIntervalSec Unit",
    ),
    (
        "Scope",
        "AllowedCPUs AllowedMemoryNodes BPFProgram BlockIOAccounting BlockIODeviceWeight \
         BlockIOReadBandwidth BlockIOWeight BlockIOWriteBandwidth CPUAccounting CPUQuota \
         CPUQuotaPeriodSec CPUShares CPUWeight DefaultMemoryLow DefaultMemoryMin Delegate \
         DeviceAllow DevicePolicy DisableControllers FinalKillSignal IOAccounting \
         IODeviceLatencyTargetSec IODeviceWeight IOReadBandwidthMax IOReadIOPSMax IOWeight \
         IOWriteBandwidthMax IOWriteIOPSMax IPAccounting IPAddressAllow IPAddressDeny \
         IPEgressFilterPath IPIngressFilterPath KillMode KillSignal ManagedOOMMemoryPressure \
         ManagedOOMMemoryPressureLimit ManagedOOMPreference ManagedOOMSwap MemoryAccounting \
         MemoryHigh MemoryLimit MemoryLow MemoryMax MemoryMin MemorySwapMax OOMPolicy \
         RestartKillSignal RestrictNetworkInterfaces RuntimeMaxSec RuntimeRandomizedExtraSec \
         SendSIGHUP SendSIGKILL Slice SocketBindAllow SocketBindDeny StartupAllowedCPUs \
         StartupAllowedMemoryNodes StartupBlockIOWeight StartupCPUShares StartupCPUWeight \
         StartupIOWeight TasksAccounting TasksMax TimeoutStopSec WatchdogSignal",
    ),
    (
        "Service",
        "AllowedCPUs AllowedMemoryNodes AmbientCapabilities AppArmorProfile BPFProgram \
         BindPaths BindReadOnlyPaths BlockIOAccounting BlockIODeviceWeight \
         BlockIOReadBandwidth BlockIOWeight BlockIOWriteBandwidth BusName CPUAccounting \
         CPUAffinity CPUQuota CPUQuotaPeriodSec CPUSchedulingPolicy CPUSchedulingPriority \
         CPUSchedulingResetOnFork CPUShares CPUWeight CacheDirectory CacheDirectoryMode \
         CapabilityBoundingSet ConfigurationDirectory ConfigurationDirectoryMode \
         CoredumpFilter DefaultMemoryLow DefaultMemoryMin Delegate DeviceAllow DevicePolicy \
         DisableControllers DynamicUser Environment EnvironmentFile ExecCondition ExecPaths \
         ExecReload ExecSearchPath ExecStart ExecStartPost ExecStartPre ExecStop ExecStopPost \
         ExitType ExtensionDirectories ExtensionImages FailureAction FileDescriptorStoreMax \
         FinalKillSignal Group GuessMainPID IOAccounting IODeviceLatencyTargetSec \
         IODeviceWeight IOReadBandwidthMax IOReadIOPSMax IOSchedulingClass \
         IOSchedulingPriority IOWeight IOWriteBandwidthMax IOWriteIOPSMax IPAccounting \
         IPAddressAllow IPAddressDeny IPCNamespacePath IPEgressFilterPath IPIngressFilterPath \
         IgnoreSIGPIPE InaccessibleDirectories InaccessiblePaths KeyringMode KillMode \
         KillSignal LimitAS LimitCORE LimitCPU LimitDATA LimitFSIZE LimitLOCKS LimitMEMLOCK \
         LimitMSGQUEUE LimitNICE LimitNOFILE LimitNPROC LimitRSS LimitRTPRIO LimitRTTIME \
         LimitSIGPENDING LimitSTACK LoadCredential LoadCredentialEncrypted LockPersonality \
         LogExtraFields LogLevelMax LogNamespace LogRateLimitBurst LogRateLimitIntervalSec \
         LogsDirectory LogsDirectoryMode ManagedOOMMemoryPressure \
         ManagedOOMMemoryPressureLimit ManagedOOMPreference ManagedOOMSwap MemoryAccounting \
         MemoryDenyWriteExecute MemoryHigh MemoryLimit MemoryLow MemoryMax MemoryMin \
         MemorySwapMax MountAPIVFS MountFlags MountImages NUMAMask NUMAPolicy \
         NetworkNamespacePath Nice NoExecPaths NoNewPrivileges NonBlocking NotifyAccess \
         OOMPolicy OOMScoreAdjust PAMName PIDFile PassEnvironment PermissionsStartOnly \
         Personality PrivateDevices PrivateIPC PrivateMounts PrivateNetwork PrivateTmp \
         PrivateUsers ProcSubset ProtectClock ProtectControlGroups ProtectHome \
         ProtectHostname ProtectKernelLogs ProtectKernelModules ProtectKernelTunables \
         ProtectProc ProtectSystem ReadOnlyDirectories ReadOnlyPaths ReadWriteDirectories \
         ReadWritePaths RebootArgument RemainAfterExit RemoveIPC Restart \
         RestartForceExitStatus RestartKillSignal RestartPreventExitStatus RestartSec \
         RestrictAddressFamilies RestrictFileSystems RestrictNamespaces \
         RestrictNetworkInterfaces RestrictRealtime RestrictSUIDSGID RootDirectory \
         RootDirectoryStartOnly RootHash RootHashSignature RootImage RootImageOptions \
         RootVerity RuntimeDirectory RuntimeDirectoryMode RuntimeDirectoryPreserve \
         RuntimeMaxSec RuntimeRandomizedExtraSec SELinuxContext SecureBits SendSIGHUP \
         SendSIGKILL SetCredential SetCredentialEncrypted Slice SmackProcessLabel \
         SocketBindAllow SocketBindDeny Sockets StandardError StandardInput StandardInputData \
         StandardInputText StandardOutput StartLimitAction StartLimitBurst StartLimitInterval \
         StartupAllowedCPUs StartupAllowedMemoryNodes StartupBlockIOWeight StartupCPUShares \
         StartupCPUWeight StartupIOWeight StateDirectory StateDirectoryMode SuccessExitStatus \
         SupplementaryGroups SyslogFacility SyslogIdentifier SyslogLevel SyslogLevelPrefix \
         SystemCallArchitectures SystemCallErrorNumber SystemCallFilter SystemCallLog \
         TTYColumns TTYPath TTYReset TTYRows TTYVHangup TTYVTDisallocate TasksAccounting \
         TasksMax TemporaryFileSystem TimeoutAbortSec TimeoutCleanSec TimeoutSec \
         TimeoutStartFailureMode TimeoutStartSec TimeoutStopFailureMode TimeoutStopSec \
         TimerSlackNSec Type UMask USBFunctionDescriptors USBFunctionStrings UnsetEnvironment \
         User UtmpIdentifier UtmpMode WatchdogSec WatchdogSignal WorkingDirectory",
    ),
    (
        "Slice",
        "AllowedCPUs AllowedMemoryNodes BPFProgram BlockIOAccounting BlockIODeviceWeight \
         BlockIOReadBandwidth BlockIOWeight BlockIOWriteBandwidth CPUAccounting CPUQuota \
         CPUQuotaPeriodSec CPUShares CPUWeight DefaultMemoryLow DefaultMemoryMin Delegate \
         DeviceAllow DevicePolicy DisableControllers IOAccounting IODeviceLatencyTargetSec \
         IODeviceWeight IOReadBandwidthMax IOReadIOPSMax IOWeight IOWriteBandwidthMax \
         IOWriteIOPSMax IPAccounting IPAddressAllow IPAddressDeny IPEgressFilterPath \
         IPIngressFilterPath ManagedOOMMemoryPressure ManagedOOMMemoryPressureLimit \
         ManagedOOMPreference ManagedOOMSwap MemoryAccounting MemoryHigh MemoryLimit \
         MemoryLow MemoryMax MemoryMin MemorySwapMax RestrictNetworkInterfaces Slice \
         SocketBindAllow SocketBindDeny StartupAllowedCPUs StartupAllowedMemoryNodes \
         StartupBlockIOWeight StartupCPUShares StartupCPUWeight StartupIOWeight \
         TasksAccounting TasksMax",
    ),
    (
        "Socket",
        "Accept AllowedCPUs AllowedMemoryNodes AmbientCapabilities AppArmorProfile BPFProgram \
         Backlog BindIPv6Only BindPaths BindReadOnlyPaths BindToDevice BlockIOAccounting \
         BlockIODeviceWeight BlockIOReadBandwidth BlockIOWeight BlockIOWriteBandwidth \
         Broadcast CPUAccounting CPUAffinity CPUQuota CPUQuotaPeriodSec CPUSchedulingPolicy \
         CPUSchedulingPriority CPUSchedulingResetOnFork CPUShares CPUWeight CacheDirectory \
         CacheDirectoryMode CapabilityBoundingSet ConfigurationDirectory \
         ConfigurationDirectoryMode CoredumpFilter DefaultMemoryLow DefaultMemoryMin \
         DeferAcceptSec Delegate DeviceAllow DevicePolicy DirectoryMode DisableControllers \
         DynamicUser Environment EnvironmentFile ExecPaths ExecSearchPath ExecStartPost \
         ExecStartPre ExecStopPost ExecStopPre ExtensionDirectories ExtensionImages \
         FileDescriptorName FinalKillSignal FlushPending FreeBind Group IOAccounting \
         IODeviceLatencyTargetSec IODeviceWeight IOReadBandwidthMax IOReadIOPSMax \
         IOSchedulingClass IOSchedulingPriority IOWeight IOWriteBandwidthMax IOWriteIOPSMax \
         IPAccounting IPAddressAllow IPAddressDeny IPCNamespacePath IPEgressFilterPath \
         IPIngressFilterPath IPTOS IPTTL IgnoreSIGPIPE InaccessibleDirectories \
         InaccessiblePaths KeepAlive KeepAliveIntervalSec KeepAliveProbes KeepAliveTimeSec \
         KeyringMode KillMode KillSignal LimitAS LimitCORE LimitCPU LimitDATA LimitFSIZE \
         LimitLOCKS LimitMEMLOCK LimitMSGQUEUE LimitNICE LimitNOFILE LimitNPROC LimitRSS \
         LimitRTPRIO LimitRTTIME LimitSIGPENDING LimitSTACK ListenDatagram ListenFIFO \
         ListenMessageQueue ListenNetlink ListenSequentialPacket ListenSpecial ListenStream \
         ListenUSBFunction LoadCredential LoadCredentialEncrypted LockPersonality \
         LogExtraFields LogLevelMax LogNamespace LogRateLimitBurst LogRateLimitIntervalSec \
         LogsDirectory LogsDirectoryMode ManagedOOMMemoryPressure \
         ManagedOOMMemoryPressureLimit ManagedOOMPreference ManagedOOMSwap Mark \
         MaxConnections MaxConnectionsPerSource MemoryAccounting MemoryDenyWriteExecute \
         MemoryHigh MemoryLimit MemoryLow MemoryMax MemoryMin MemorySwapMax \
         MessageQueueMaxMessages MessageQueueMessageSize MountAPIVFS MountFlags MountImages \
         NUMAMask NUMAPolicy NetworkNamespacePath Nice NoDelay NoExecPaths NoNewPrivileges \
         OOMScoreAdjust PAMName PassCredentials PassEnvironment PassPacketInfo PassSecurity \
         Personality PipeSize Priority PrivateDevices PrivateIPC PrivateMounts PrivateNetwork \
         PrivateTmp PrivateUsers ProcSubset ProtectClock ProtectControlGroups ProtectHome \
         ProtectHostname ProtectKernelLogs ProtectKernelModules ProtectKernelTunables \
         ProtectProc ProtectSystem ReadOnlyDirectories ReadOnlyPaths ReadWriteDirectories \
         ReadWritePaths ReceiveBuffer RemoveIPC RemoveOnStop RestartKillSignal \
         RestrictAddressFamilies RestrictFileSystems RestrictNamespaces \
         RestrictNetworkInterfaces RestrictRealtime RestrictSUIDSGID ReusePort RootDirectory \
         RootHash RootHashSignature RootImage RootImageOptions RootVerity RuntimeDirectory \
         RuntimeDirectoryMode RuntimeDirectoryPreserve SELinuxContext SELinuxContextFromNet \
         SecureBits SendBuffer SendSIGHUP SendSIGKILL Service SetCredential \
         SetCredentialEncrypted Slice SmackLabel SmackLabelIPIn SmackLabelIPOut \
         SmackProcessLabel SocketBindAllow SocketBindDeny SocketGroup SocketMode \
         SocketProtocol SocketUser StandardError StandardInput StandardInputData \
         StandardInputText StandardOutput StartupAllowedCPUs StartupAllowedMemoryNodes \
         StartupBlockIOWeight StartupCPUShares StartupCPUWeight StartupIOWeight \
         StateDirectory StateDirectoryMode SupplementaryGroups Symlinks SyslogFacility \
         SyslogIdentifier SyslogLevel SyslogLevelPrefix SystemCallArchitectures \
         SystemCallErrorNumber SystemCallFilter SystemCallLog TCPCongestion TTYColumns \
         TTYPath TTYReset TTYRows TTYVHangup TTYVTDisallocate TasksAccounting TasksMax \
         TemporaryFileSystem TimeoutCleanSec TimeoutSec TimerSlackNSec Timestamping \
         Transparent TriggerLimitBurst TriggerLimitIntervalSec UMask UnsetEnvironment User \
         UtmpIdentifier UtmpMode WatchdogSignal WorkingDirectory Writable",
    ),
    (
        "Swap",
        "AllowedCPUs AllowedMemoryNodes AmbientCapabilities AppArmorProfile BPFProgram \
         BindPaths BindReadOnlyPaths BlockIOAccounting BlockIODeviceWeight \
         BlockIOReadBandwidth BlockIOWeight BlockIOWriteBandwidth CPUAccounting CPUAffinity \
         CPUQuota CPUQuotaPeriodSec CPUSchedulingPolicy CPUSchedulingPriority \
         CPUSchedulingResetOnFork CPUShares CPUWeight CacheDirectory CacheDirectoryMode \
         CapabilityBoundingSet ConfigurationDirectory ConfigurationDirectoryMode \
         CoredumpFilter DefaultMemoryLow DefaultMemoryMin Delegate DeviceAllow DevicePolicy \
         DisableControllers DynamicUser Environment EnvironmentFile ExecPaths ExecSearchPath \
         ExtensionDirectories ExtensionImages FinalKillSignal Group IOAccounting \
         IODeviceLatencyTargetSec IODeviceWeight IOReadBandwidthMax IOReadIOPSMax \
         IOSchedulingClass IOSchedulingPriority IOWeight IOWriteBandwidthMax IOWriteIOPSMax \
         IPAccounting IPAddressAllow IPAddressDeny IPCNamespacePath IPEgressFilterPath \
         IPIngressFilterPath IgnoreSIGPIPE InaccessibleDirectories InaccessiblePaths \
         KeyringMode KillMode KillSignal LimitAS LimitCORE LimitCPU LimitDATA LimitFSIZE \
         LimitLOCKS LimitMEMLOCK LimitMSGQUEUE LimitNICE LimitNOFILE LimitNPROC LimitRSS \
         LimitRTPRIO LimitRTTIME LimitSIGPENDING LimitSTACK LoadCredential \
         LoadCredentialEncrypted LockPersonality LogExtraFields LogLevelMax LogNamespace \
         LogRateLimitBurst LogRateLimitIntervalSec LogsDirectory LogsDirectoryMode \
         ManagedOOMMemoryPressure ManagedOOMMemoryPressureLimit ManagedOOMPreference \
         ManagedOOMSwap MemoryAccounting MemoryDenyWriteExecute MemoryHigh MemoryLimit \
         MemoryLow MemoryMax MemoryMin MemorySwapMax MountAPIVFS MountFlags MountImages \
         NUMAMask NUMAPolicy NetworkNamespacePath Nice NoExecPaths NoNewPrivileges \
         OOMScoreAdjust Options PAMName PassEnvironment Personality Priority PrivateDevices \
         PrivateIPC PrivateMounts PrivateNetwork PrivateTmp PrivateUsers ProcSubset \
         ProtectClock ProtectControlGroups ProtectHome ProtectHostname ProtectKernelLogs \
         ProtectKernelModules ProtectKernelTunables ProtectProc ProtectSystem \
         ReadOnlyDirectories ReadOnlyPaths ReadWriteDirectories ReadWritePaths RemoveIPC \
         RestartKillSignal RestrictAddressFamilies RestrictFileSystems RestrictNamespaces \
         RestrictNetworkInterfaces RestrictRealtime RestrictSUIDSGID RootDirectory RootHash \
         RootHashSignature RootImage RootImageOptions RootVerity RuntimeDirectory \
         RuntimeDirectoryMode RuntimeDirectoryPreserve SELinuxContext SecureBits SendSIGHUP \
         SendSIGKILL SetCredential SetCredentialEncrypted Slice SmackProcessLabel \
         SocketBindAllow SocketBindDeny StandardError StandardInput StandardInputData \
         StandardInputText StandardOutput StartupAllowedCPUs StartupAllowedMemoryNodes \
         StartupBlockIOWeight StartupCPUShares StartupCPUWeight StartupIOWeight \
         StateDirectory StateDirectoryMode SupplementaryGroups SyslogFacility \
         SyslogIdentifier SyslogLevel SyslogLevelPrefix SystemCallArchitectures \
         SystemCallErrorNumber SystemCallFilter SystemCallLog TTYColumns TTYPath TTYReset \
         TTYRows TTYVHangup TTYVTDisallocate TasksAccounting TasksMax TemporaryFileSystem \
         TimeoutCleanSec TimeoutSec TimerSlackNSec UMask UnsetEnvironment User UtmpIdentifier \
         UtmpMode WatchdogSignal What WorkingDirectory",
    ),
    (
        "Timer",
        "AccuracySec FixedRandomDelay OnActiveSec OnBootSec OnCalendar OnClockChange \
         OnStartupSec OnTimezoneChange OnUnitActiveSec OnUnitInactiveSec Persistent \
         RandomizedDelaySec RemainAfterElapse Unit WakeSystem",
    ),
    (
        "Unit",
        "After AllowIsolate AssertACPower AssertArchitecture AssertCPUFeature \
         AssertCPUPressure AssertCPUs AssertCapability AssertControlGroupController \
         AssertCredential AssertDirectoryNotEmpty AssertEnvironment AssertFileIsExecutable \
         AssertFileNotEmpty AssertFirstBoot AssertGroup AssertHost AssertIOPressure \
         AssertKernelCommandLine AssertKernelVersion AssertMemory AssertMemoryPressure \
         AssertNeedsUpdate AssertOSRelease AssertPathExists AssertPathExistsGlob \
         AssertPathIsDirectory AssertPathIsEncrypted AssertPathIsMountPoint \
         AssertPathIsReadWrite AssertPathIsSymbolicLink AssertSecurity AssertUser \
         AssertVirtualization Before BindTo BindsTo CollectMode ConditionACPower \
         ConditionArchitecture ConditionCPUFeature ConditionCPUPressure ConditionCPUs \
         ConditionCapability ConditionControlGroupController ConditionCredential \
         ConditionDirectoryNotEmpty ConditionEnvironment ConditionFileIsExecutable \
         ConditionFileNotEmpty ConditionFirmware ConditionFirstBoot ConditionGroup \
         ConditionHost ConditionIOPressure ConditionKernelCommandLine ConditionKernelVersion \
         ConditionMemory ConditionMemoryPressure ConditionNeedsUpdate ConditionOSRelease \
         ConditionPathExists ConditionPathExistsGlob ConditionPathIsDirectory \
         ConditionPathIsEncrypted ConditionPathIsMountPoint ConditionPathIsReadWrite \
         ConditionPathIsSymbolicLink ConditionSecurity ConditionUser ConditionVirtualization \
         Conflicts DefaultDependencies Description Documentation FailureAction \
         FailureActionExitStatus IgnoreOnIsolate JobRunningTimeoutSec JobTimeoutAction \
         JobTimeoutRebootArgument JobTimeoutSec JoinsNamespaceOf OnFailure OnFailureIsolate \
         OnFailureJobMode OnSuccess OnSuccessJobMode PartOf PropagateReloadFrom \
         PropagateReloadTo PropagatesReloadTo PropagatesStopTo RebootArgument \
         RefuseManualStart RefuseManualStop ReloadPropagatedFrom Requires RequiresMountsFor \
         RequiresOverridable Requisite RequisiteOverridable SourcePath StartLimitAction \
         StartLimitBurst StartLimitInterval StartLimitIntervalSec StopPropagatedFrom \
         StopWhenUnneeded SuccessAction SuccessActionExitStatus Upholds Wants",
    ),
];

/// True when systemd 252 knows `key` in `section`.
pub fn is_known(section: &str, key: &str) -> bool {
    KNOWN
        .iter()
        .any(|(s, keys)| *s == section && keys.split_ascii_whitespace().any(|k| k == key))
}
