// Command dbfence is a transparent database proxy for masking, least-privilege
// column rules, bulk-export approval and tamper-evident audit: the one binary
// of the project. Its subcommands (serve, demo, check, explain, discover,
// audit, approval, unmask) are the only place where the packages are wired
// together: configuration → rules engine, masking library, audit log,
// approval store → protocol engines → listeners and the admin server.
//
// Usage: dbfence <command> [flags]; `dbfence help` lists the commands.
package main
