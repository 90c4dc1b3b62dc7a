"""A scripted CalDAV session with python3-caldav (Debian's package).

Usage: session.py URL USER PASSWORD. Every step checks its result and
exits non-zero on the first mismatch; the last line printed is a JSON
summary the Go test compares with the git history.
"""
import json
import sys
from datetime import datetime, timezone

import caldav
from caldav.lib import error

url, user, password = sys.argv[1:4]


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)
    print("ok:", what)


def uids(objs):
    out = set()
    for o in objs:
        o.load()
        out.add(o.vobject_instance.vevent.uid.value if hasattr(o.vobject_instance, "vevent")
                else o.vobject_instance.vtodo.uid.value)
    return out


SINGLE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//quercus//session//EN
BEGIN:VEVENT
UID:single-1
DTSTAMP:20260101T000000Z
DTSTART:20260310T090000Z
DTEND:20260310T100000Z
SUMMARY:Dentist appointment
END:VEVENT
END:VCALENDAR
"""

RECURRING = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//quercus//session//EN
BEGIN:VEVENT
UID:weekly-1
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260302T100000
DTEND;TZID=Europe/Berlin:20260302T103000
RRULE:FREQ=WEEKLY;COUNT=10
SUMMARY:Team standup
END:VEVENT
END:VCALENDAR
"""

TODO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//quercus//session//EN
BEGIN:VTODO
UID:todo-1
DTSTAMP:20260101T000000Z
DUE:20260320T170000Z
SUMMARY:File the taxes
END:VTODO
END:VCALENDAR
"""

client = caldav.DAVClient(url=url, username=user, password=password)
principal = client.principal()
check(str(principal.url).rstrip("/").endswith("/principals/" + user), "principal discovered: %s" % principal.url)

cal = principal.make_calendar(name="Work", cal_id="work")
check(str(cal.url).endswith("/calendars/%s/work/" % user), "calendar created at %s" % cal.url)
names = [c.name for c in principal.calendars()]
check("Work" in names, "calendar listed in the home: %s" % names)

single = cal.save_event(SINGLE)
recurring = cal.save_event(RECURRING)
todo = cal.save_todo(TODO)
check(len(cal.events()) == 2, "two events stored")
check(len(cal.todos()) == 1, "one todo stored")

# Time range: the week of 9 March holds the dentist and one standup.
found = cal.date_search(start=datetime(2026, 3, 9, tzinfo=timezone.utc),
                        end=datetime(2026, 3, 16, tzinfo=timezone.utc), expand=False)
check(uids(found) == {"single-1", "weekly-1"}, "time range 9-16 March: %s" % uids(found))
# Only the recurrence reaches into May (10 weeks from 2 March ends 4 May).
found = cal.date_search(start=datetime(2026, 5, 1, tzinfo=timezone.utc),
                        end=datetime(2026, 5, 31, tzinfo=timezone.utc), expand=False)
check(uids(found) == {"weekly-1"}, "time range May: %s" % uids(found))
found = cal.date_search(start=datetime(2026, 6, 1, tzinfo=timezone.utc),
                        end=datetime(2026, 6, 30, tzinfo=timezone.utc), expand=False)
check(len(found) == 0, "time range June is empty")

# Expanded by the server: two standups in two weeks, each its own instance.
found = cal.search(start=datetime(2026, 3, 9, tzinfo=timezone.utc),
                   end=datetime(2026, 3, 23, tzinfo=timezone.utc), event=True, expand=True)
standups = [o for o in found if "Team standup" in o.data]
rids = sorted(o.vobject_instance.vevent.recurrence_id.value.strftime("%Y%m%dT%H%M%SZ") for o in standups)
check(rids == ["20260309T090000Z", "20260316T090000Z"], "expanded instances: %s" % rids)
check(all("RRULE" not in o.data for o in standups), "expanded instances carry no RRULE")

# Text match: python-caldav asks for i;octet, so case counts.
found = cal.search(event=True, summary="Dentist")
check(uids(found) == {"single-1"}, "text search 'Dentist': %s" % uids(found))
found = cal.search(event=True, summary="dentist")
check(len(found) == 0, "text search 'dentist' under i;octet finds nothing")

# Update with If-Match: the current ETag passes, a stale one answers 412.
r = client.request(str(single.url), "GET")
etag = r.headers["ETag"]
updated = SINGLE.replace("Dentist appointment", "Dentist (moved)")
r = client.put(str(single.url), updated, {"Content-Type": "text/calendar", "If-Match": etag})
check(r.status == 204, "PUT with current If-Match: %d" % r.status)
r = client.put(str(single.url), updated, {"Content-Type": "text/calendar", "If-Match": etag})
check(r.status == 412, "PUT with stale If-Match: %d" % r.status)
single.load()
check("Dentist (moved)" in single.data, "update stored")

# Sync: a token, then one change and one deletion.
objs = cal.objects_by_sync_token()
token = objs.sync_token
check(len(list(objs)) == 3, "initial sync lists 3 objects")
todo.delete()
cal.save_event(SINGLE.replace("single-1", "single-2").replace("Dentist appointment", "Lunch"))
changed = cal.objects_by_sync_token(sync_token=token, load_objects=False)
hrefs = sorted(str(o.url).rsplit("/", 1)[1] for o in changed)
check(len(hrefs) == 2, "sync after 2 changes reports 2: %s" % hrefs)
check(changed.sync_token != token, "sync token moved")

# Bad input changes nothing: python-caldav would add a UID, so PUT raw;
# the library raises on the 403.
try:
    client.put(str(cal.url) + "nouid.ics",
               "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:no uid\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
               {"Content-Type": "text/calendar"})
    check(False, "an event without UID is refused")
except error.AuthorizationError as e:
    check("Forbidden" in str(e), "an event without UID is refused: %s" % e)

# More of what clients do: find by UID, read the component set, rename
# the calendar (PROPPATCH), free-busy.
found = cal.event_by_uid("weekly-1")
check("Team standup" in found.data, "event_by_uid")
check(cal.get_supported_components() == ["VEVENT", "VTODO", "VJOURNAL"],
      "supported components: %s" % cal.get_supported_components())
cal.set_properties([caldav.elements.dav.DisplayName("Work (renamed)")])
check(cal.get_display_name() == "Work (renamed)", "calendar renamed")
fb = cal.freebusy_request(datetime(2026, 3, 9, tzinfo=timezone.utc), datetime(2026, 3, 16, tzinfo=timezone.utc))
fb.load() if hasattr(fb, "load") and not fb.data else None
check("FREEBUSY" in fb.data and "20260309T090000Z/20260309T093000Z" in fb.data,
      "free-busy shows the standup of 9 March")

single.delete()
check(len(cal.events()) == 2, "after delete: weekly and lunch remain")

print(json.dumps({"calendar": str(cal.url)}))
