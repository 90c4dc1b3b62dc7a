package sandbox

// Testing is what a test binary needs on top of a production policy,
// for the child processes that tests of a sandbox run: go test writes
// its results and coverage through files it opens, and the race
// detector's runtime (ThreadSanitizer) makes calls of its own. It is for
// tests only: no service adds it, and the production lists are not
// widened for -race.
var Testing = Policy{Calls: []Call{}}
