// Package calquery evaluates CalDAV calendar-query filters (RFC 4791
// §9.7): component, property and parameter filters, text matches under
// the i;octet and i;ascii-casemap collations, and time ranges with
// recurrence expansion (RRULE, RDATE, EXDATE and overridden instances).
// It also expands recurring objects for calendar-data's expand.
package calquery
