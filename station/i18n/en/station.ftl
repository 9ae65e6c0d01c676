# jemput operator station: the page frame, visit categories, common errors.
# Every id here is also in ../id/station.ftl (checked by a unit test).

station-name = jemput Operator Station
skip-to-content = Skip to content
lang-other = Bahasa Indonesia
lang-switch-label = Switch the language to Indonesian
action-lock = Lock
training-banner = Training kit: everything here is for practice only and is thrown away when jemput ui closes.

error-title = Something went wrong
error-not-found = There is no such page.
error-back = Back to the home page
home-failed = The home page's data could not be read from the kit. Details for a technician:

category-lansia = Elderly
category-sakit = Seriously ill
category-disabilitas = Person with a disability
category-odgj = Person with a mental illness
category-rumah-sakit = Hospital patient
category-umum = General outreach
category-dokumen = Documents only
