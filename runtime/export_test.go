package runtime

// SetCrashAfterCreate makes every batch job's creation "crash" before its
// name is stored, while f returns true (nil: no crash).
func SetCrashAfterCreate(f func() bool) { crashAfterCreate = f }
