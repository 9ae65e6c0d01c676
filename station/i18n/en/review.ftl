# Resuming, reviewing, sealing and uploading a visit.

action-review = Review
action-seal = Seal the visit
action-upload = Upload now
action-continue = Continue
action-continue-label = Continue: { $who }
action-review-label = Review: { $who }

review-title = Review the visit
review-reference = NIK / worklist
review-category = Category
review-place = Place
review-consent = Consent
review-consent-none = not recorded
consent-by-resident-short = given by the resident
consent-by-guardian-short = given by { $name }
review-face = Face photo
review-face-alt = The resident's face photo
review-fingers = Fingerprints
review-finger-alt = Fingerprint, { $name }
review-signature = Signature
review-signature-alt = The resident's signature
review-documents = Document photos
review-document-alt = Document photo { $n }
review-score = Score { $score }
review-attempts = { $n ->
    [one] 1 attempt
   *[other] { $n } attempts
}
review-forced = forced below the quality threshold
review-check = Check
review-value = Value
review-threshold = Threshold
review-result = Result
review-pass = passed
review-fail = failed
review-exception = Exception
review-proof = proof photo
review-missing = Not captured and no exception.
review-go-step = Capture it now
review-seal-title = Seal
review-ready = Everything is there: the visit is ready to seal.
review-not-ready = The visit cannot be sealed yet:
review-warnings-legend = The resident's details disagree with the NIK. Check with the resident, then tick each warning before sealing:
review-sealing-interrupted = An earlier seal stopped midway (packet { $packet }). Press "Seal the visit" to finish it; nothing is sealed twice.
review-failed = The visit cannot be read from the kit. Details for a technician:
seal-refused = Not sealed: complete what is listed below first. The draft is kept.
seal-confirm-first = Not sealed: tick each NIK warning after checking it with the resident.
seal-failed = Sealing failed; the visit's draft is kept and nothing is lost. Details for a technician:
visit-unknown = This visit is not on the kit: it may have been discarded, or the address is wrong. Visits in progress are on the home page.
visit-bad-id = This visit address is not valid.
visit-already-sealed = This visit is already sealed.

sealed-title = Visit sealed
sealed-now = The visit is sealed into an encrypted, signed packet.
sealed-earlier = This visit was sealed earlier.
sealed-packet = Packet
sealed-size = Size
sealed-queue = The packet waits in the kit's queue until the office receives it. Upload now if there is a link, or later.
sealed-online-only = The kit is in online-only mode: the upload has started.

upload-title = Upload to the office
upload-running = Uploading…
upload-idle = No upload from this station yet.
upload-nothing = No packets are waiting to upload.
upload-done = The upload is finished.
upload-packet = Packet
upload-result = Result
upload-acknowledged = Received by the office: receipt from { $hub }.
upload-no-receipt = Sent, but no receipt yet; the packet is kept until the office signs for it.
upload-too-large = Too large for the office hub; the packet stays in the queue. Call a technician.
upload-quarantined = The packet is damaged on the kit's disk and was quarantined: { $why }
upload-refused = Refused by the office: { $why }
upload-retry = Not sent yet, will be tried again: { $why }
upload-not-attempted = Not tried; it stays in the queue.
upload-no-hub = This kit has no office hub address yet (enroll it with jemput enroll). The packets stay safe in the queue.
upload-stopped = No link to the office now; the packets stay safe in the queue and upload later. ({ $why })
upload-failed = The upload could not start; the packets stay in the queue. Details for a technician: { $why }

reason-amputated = amputated
reason-bandaged = bandaged or injured
reason-unable-to-sign = unable to sign
reason-blind = blind
reason-refused = refused by the resident
reason-device-failure = device failure
reason-poor-quality = quality below the threshold
reason-not-detected = not detected
reason-other = other: { $text }
permanence-temporary = temporary
permanence-permanent = permanent

problem-no-consent = Consent is not recorded.
problem-consent-refused = The resident refused consent: the visit cannot be sealed (discard it with jemput visit discard).
problem-bad-nik = The NIK is not valid: { $why }
problem-unconfirmed = A NIK warning is not confirmed.
problem-missing-face = The face photo is missing and has no exception.
problem-missing-finger = Finger { $n } ({ $name }) is missing and has no exception.
problem-missing-signature = The signature is missing and has no exception.
problem-no-documents = A document-only visit without a document photo or an exception for it.
problem-document-exception = A document-photo exception belongs only to a document-only visit.
problem-fix-consent = Record consent
problem-fix-step = Go to { $step }

nik-warning-sex = The NIK says { $nik }, but the sex entered is { $entered }
nik-warning-birth-date = The NIK's birth date ({ $nik }) differs from the one entered ({ $entered })
sex-male = male
sex-female = female

step-location = Location
step-face = Face photo
step-finger = Finger { $n } ({ $name })
step-signature = Signature
step-document = Document photo { $n }
drafts-next = Next: { $step } ({ $done }/{ $needed })
drafts-all-captured = All captured ({ $done }/{ $needed })
drafts-action = Action

signature-kind-signature = usual signature
signature-kind-simple-mark = simple mark (cannot sign)
signature-kind-written-name = written name (cannot sign)
document-akta = Birth certificate photo
document-kia = KIA photo
document-kk = KK photo
document-all = Every document photo

finger-1 = right thumb
finger-2 = right index
finger-3 = right middle
finger-4 = right ring
finger-5 = right little
finger-6 = left thumb
finger-7 = left index
finger-8 = left middle
finger-9 = left ring
finger-10 = left little
worklist-new-visit-label = New visit: { $name }
