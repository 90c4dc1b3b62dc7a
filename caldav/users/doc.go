// Package users keeps the CalDAV server's users and groups in the
// repository: users/NAME.json holds a user's password hash (argon2id or
// bcrypt) and groups/NAME.json a group's members. It hashes and checks
// passwords and limits failed logins.
package users
