# Home: the worklist, visits in progress, queue and link, offline limits.

home-title = Home
home-kit = Kit { $kit }
home-operator = Operator { $operator }

worklist-title = Today's worklist
worklist-name = Resident
worklist-category = Category
worklist-place = Place
worklist-notes = Notes
worklist-in-progress = in progress
worklist-empty = The office's worklist has no residents.
worklist-never-synced = The kit has never synced with the office, so there is no worklist yet. Sync before the trip (jemput sync).

drafts-title = Visits in progress
drafts-who = Resident
drafts-category = Category
drafts-started = Started
drafts-state = State
drafts-ready = Ready to seal
drafts-missing = { $n ->
    [one] { $n } item still missing
   *[other] { $n } items still missing
}
drafts-unreadable = Cannot be read
drafts-none = No visit is in progress.

queue-title = Queue and link
queue-sealed = Sealed, waiting for upload
queue-uploading = Uploading
queue-acknowledged = Received by the office
queue-quarantined = Quarantined
queue-waiting = Not yet received by the office: { $packets } packets ({ $size }).
queue-last-sync = Last sync: { $at }.
queue-never-synced = Never synced with the office.
link-checking = Checking the link to the office…
link-none = No office hub is set (enroll the kit with jemput enroll).
link-up = Connected to the office hub ({ $url }).
link-down = The office hub cannot be reached now. Packets stay safe in the queue and are uploaded when there is a link.

policy-title = Offline limits
policy-allowed = New visits may start.
policy-refused = New visits are REFUSED: the kit is past the limits marked. Sync or upload first.
policy-limit = Limit
policy-value = Limit value
policy-now = Now
policy-used = Used
policy-off = none
policy-unknown = not known yet
policy-past = PAST THE LIMIT
policy-online-only = Online-only mode: a new visit may start only while the office hub answers.
source-hub = from the office
source-local = from the kit

limit-max-days-since-sync = Days since the last sync
limit-max-backlog-packets = Packets not yet received
limit-max-backlog-bytes = Size of packets not yet received
limit-min-free-disk-bytes = Least free disk space
limit-max-clock-skew-secs = Clock difference with the office
unit-days = { $n } days
unit-packets = { $n } packets
unit-bytes = { $n }
unit-seconds = { $n } seconds
worklist-other-resident = Resident not on the list?
action-new-visit = New visit
drafts-refused = Consent refused: the visit ended with nothing captured
