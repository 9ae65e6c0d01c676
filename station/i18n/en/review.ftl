# Resuming, reviewing, sealing and uploading a visit.

review-action = Review
review-action-seal = Seal the visit
upload-action = Upload now
resume-action = Continue
resume-action-label = Continue: { $who }
review-action-label = Review: { $who }

review-title = Review the visit
review-reference = NIK / worklist
review-category = Category
review-place = Place
review-consent = Consent
review-consent-none = not recorded
review-consent-resident = given by the resident
review-consent-guardian = given by { $name }
review-face = Face photo
review-face-alt = The resident's face photo
review-fingers = Fingerprints
review-finger-alt = Fingerprint, { $name }
review-signature = Signature
review-signature-alt = The resident's signature
review-documents = Document photos
review-document-alt = Document photo { $n }
review-score = Score { $score }
review-device-score = · device score { $score }
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
resume-unknown = This visit is not on the kit: it may have been discarded, or the address is wrong. Visits in progress are on the home page.
resume-bad-id = This visit address is not valid.
resume-already-sealed = This visit is already sealed.

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
upload-quarantined = The packet is damaged on the kit's disk and was quarantined. Call a technician.
upload-refused = Refused by the office. Call a technician.
upload-retry = Not sent yet, will be tried again.
upload-not-attempted = Not tried; it stays in the queue.
upload-no-hub = This kit has no office hub address yet (enroll it with jemput enroll). The packets stay safe in the queue.
upload-stopped = No link to the office now; the packets stay safe in the queue and upload later.
upload-failed = The upload could not start; the packets stay in the queue. Call a technician.

review-reason-amputated = amputated
review-reason-bandaged = bandaged or injured
review-reason-unable-to-sign = unable to sign
review-reason-blind = blind
review-reason-refused = refused by the resident
review-reason-device-failure = device failure
review-reason-poor-quality = quality below the threshold
review-reason-not-detected = not detected
review-reason-other = other: { $text }
review-permanence-temporary = temporary
review-permanence-permanent = permanent

review-problem-no-consent = Consent is not recorded.
review-problem-consent-refused = The resident refused consent: the visit cannot be sealed (discard it with jemput visit discard).
review-problem-bad-nik = The NIK is not valid: { $why }
review-problem-unconfirmed = A NIK warning is not confirmed.
review-problem-missing-face = The face photo is missing and has no exception.
review-problem-missing-finger = Finger { $n } ({ $name }) is missing and has no exception.
review-problem-missing-signature = The signature is missing and has no exception.
review-problem-no-documents = A document-only visit without a document photo or an exception for it.
review-problem-document-exception = A document-photo exception belongs only to a document-only visit.
review-problem-fix-consent = Record consent
review-problem-fix-step = Go to { $step }

review-nik-warning-sex = The NIK says { $nik }, but the sex entered is { $entered }
review-nik-warning-birth-date = The NIK's birth date ({ $nik }) differs from the one entered ({ $entered })
review-sex-male = male
review-sex-female = female

review-step-location = Location
review-step-face = Face photo
review-step-finger = Finger { $n } ({ $name })
review-step-signature = Signature
review-step-document = Document photo { $n }
resume-consent = Consent
resume-next = Next: { $step } ({ $done }/{ $needed })
resume-all-captured = All captured ({ $done }/{ $needed })
resume-column = Action

review-signature-kind-signature = usual signature
review-signature-kind-simple-mark = simple mark (cannot sign)
review-signature-kind-written-name = written name (cannot sign)
review-document-akta = Birth certificate photo
review-document-kia = KIA photo
review-document-kk = KK photo
review-document-all = Every document photo

review-finger-1 = right thumb
review-finger-2 = right index
review-finger-3 = right middle
review-finger-4 = right ring
review-finger-5 = right little
review-finger-6 = left thumb
review-finger-7 = left index
review-finger-8 = left middle
review-finger-9 = left ring
review-finger-10 = left little
worklist-new-visit-label = New visit: { $name }
review-face-check-width = Photo width
review-face-check-height = Photo height
review-face-check-aspect-ratio = Aspect ratio
review-face-check-highlights-clipped = Blown highlights
review-face-check-shadows-clipped = Crushed shadows
review-face-check-sharpness = Sharpness
review-face-check-background-uniform = Even background
review-face-check-background-colour = Background colour
