# Beranda: daftar kunjungan, kunjungan berjalan, antrean dan jaringan, batas mode luring.

home-title = Beranda
home-kit = Kit { $kit }
home-operator = Operator { $operator }

worklist-title = Daftar kunjungan hari ini
worklist-name = Warga
worklist-category = Kategori
worklist-place = Tempat
worklist-notes = Catatan
worklist-in-progress = sedang berjalan
worklist-empty = Tidak ada warga dalam daftar kunjungan dari kantor.
worklist-never-synced = Kit belum pernah sinkron dengan kantor, jadi belum ada daftar kunjungan. Sinkronkan sebelum berangkat (jemput sync).

drafts-title = Kunjungan berjalan
drafts-who = Warga
drafts-category = Kategori
drafts-started = Dimulai
drafts-state = Keadaan
drafts-ready = Siap disegel
drafts-missing = { $n } hal belum lengkap
drafts-unreadable = Tidak dapat dibaca
drafts-none = Tidak ada kunjungan yang sedang berjalan.

queue-title = Antrean dan jaringan
queue-sealed = Disegel, menunggu unggah
queue-uploading = Sedang diunggah
queue-acknowledged = Diterima kantor
queue-quarantined = Dikarantina
queue-waiting = Belum diterima kantor: { $packets } paket ({ $size }).
queue-last-sync = Sinkron terakhir: { $at }.
queue-never-synced = Belum pernah sinkron dengan kantor.
link-checking = Memeriksa sambungan ke kantor…
link-none = Alamat hub kantor belum diatur (daftarkan kit dengan jemput enroll).
link-up = Tersambung ke hub kantor ({ $url }).
link-down = Hub kantor tidak terjangkau sekarang. Paket tetap aman di antrean dan diunggah saat sambungan ada.

policy-title = Batas mode luring
policy-allowed = Kunjungan baru boleh dimulai.
policy-refused = Kunjungan baru DITOLAK: kit melewati batas yang ditandai. Sinkronkan atau unggah dulu.
policy-limit = Batas
policy-value = Nilai batas
policy-now = Sekarang
policy-used = Terpakai
policy-off = tidak ada
policy-unknown = belum diketahui
policy-past = LEWAT BATAS
policy-online-only = Mode hanya-daring: kunjungan baru hanya boleh dimulai saat hub kantor menjawab.
source-hub = dari kantor
source-local = dari kit

limit-max-days-since-sync = Hari sejak sinkron terakhir
limit-max-backlog-packets = Paket belum diterima kantor
limit-max-backlog-bytes = Ukuran paket belum diterima
limit-min-free-disk-bytes = Ruang disk kosong minimal
limit-max-clock-skew-secs = Selisih jam dengan kantor
unit-days = { $n } hari
unit-packets = { $n } paket
unit-bytes = { $n }
unit-seconds = { $n } detik
worklist-other-resident = Warga tidak ada di daftar?
action-new-visit = Kunjungan baru
drafts-refused = Persetujuan ditolak: kunjungan berakhir tanpa pengambilan data
