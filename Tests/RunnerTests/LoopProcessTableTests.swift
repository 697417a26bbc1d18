import Glibc
import Testing

@testable import Runner

/// /proc parsing and the rules that find a run's processes.
@Suite struct LoopProcessTableTests {
    /// A table entry with the fields the rules look at.
    static func entry(
        _ pid: pid_t, parent: pid_t, group: pid_t, session: pid_t, state: Character = "S"
    ) -> ProcessEntry {
        ProcessEntry(
            pid: pid, parent: parent, group: group, session: session,
            startTime: UInt64(pid) * 7, state: state.asciiValue!)
    }

    @Test(arguments: [
        ("123 (sleep) S 1 123 123 0 -1", 123, 1, 123, 123),
        ("77 (a b) c)) R 5 6 7 0 -1", 77, 5, 6, 7),
    ])
    func parsesStatWithAwkwardCommandNames(
        prefix: String, pid: Int32, parent: Int32, group: Int32, session: Int32
    ) {
        // Pad fields 9-21 and put 4242 in field 22 (starttime).
        let line = prefix + String(repeating: " 0", count: 13) + " 4242 0 0"
        let parsed = ProcessTable.parseStat(Array(line.utf8))
        #expect(parsed?.pid == pid)
        #expect(parsed?.parent == parent)
        #expect(parsed?.group == group)
        #expect(parsed?.session == session)
        #expect(parsed?.startTime == 4242)
    }

    @Test func readsThisProcessFromProc() {
        let me = ProcessTable.info(getpid())
        #expect(me?.pid == getpid())
        #expect(me?.parent == getppid())
        #expect(me?.group == getpgrp())
        #expect((me?.startTime ?? 0) > 0)
        #expect(ProcessTable.all().contains { $0.pid == getpid() })
    }

    /// A run rooted at 100: 101 is a job in its group, 102 a job that left
    /// with setsid, 103 a child of 102, 200 unrelated, 104 a zombie job.
    static let table = [
        entry(100, parent: 1, group: 100, session: 100),
        entry(101, parent: 100, group: 100, session: 100),
        entry(102, parent: 100, group: 102, session: 102),
        entry(103, parent: 102, group: 102, session: 102),
        entry(104, parent: 100, group: 100, session: 100, state: "Z"),
        entry(200, parent: 1, group: 200, session: 200),
    ]

    @Test func findsDescendantsAndGroupButNotRootZombiesOrStrangers() {
        let found = RunMembers.find(root: 100, rootReaped: false, pipeInodes: [], table: Self.table)
        #expect(found.processes.map(\.pid) == [101, 102, 103])
    }

    @Test func afterRootIsReapedFindsGroupMembersButNotTheEscapedJob() {
        // 101 and 102 were reparented to ward (pid 50) when the root exited.
        let table = [
            Self.entry(101, parent: 50, group: 100, session: 100),
            Self.entry(102, parent: 50, group: 102, session: 102),
            Self.entry(200, parent: 1, group: 200, session: 200),
        ]
        let found = RunMembers.find(root: 100, rootReaped: true, pipeInodes: [], table: table)
        #expect(found.processes.map(\.pid) == [101])
    }

    @Test func reusedRootPidDisablesTheGroupRule() {
        // pid 100 now belongs to a new process leading its own group; a
        // process in that group is not the old run's.
        let table = [
            Self.entry(100, parent: 1, group: 100, session: 100),
            Self.entry(101, parent: 100, group: 100, session: 100),
        ]
        let found = RunMembers.find(root: 100, rootReaped: true, pipeInodes: [], table: table)
        #expect(found.processes.isEmpty)
    }
}
