# Panel perangkat dan pesan masalah perangkat.

devices-title = Perangkat
devices-open-panel = Buka panel perangkat
devices-simulated = Latihan: perangkat ini adalah model perangkat, bukan alat sungguhan.
devices-busy-with = Sedang dipakai untuk langkah { $step }.
devices-role = Peran
devices-device = Perangkat
devices-state = Keadaan
devices-none = tidak ada
devices-when-opened = Perangkat dibuka saat halaman langkah pengambilan sebuah kunjungan dibuka, dan ditutup saat kit dikunci.
device-role-camera = Kamera
device-role-scanner = Pemindai sidik jari
device-role-pad = Pad tanda tangan
device-role-gps = Penerima GPS
device-state-ready = siap
device-state-busy = sedang dipakai
device-state-missing = tidak ditemukan
device-state-fault = bermasalah
device-state-closed = belum dibuka
device-problem-detail = Pesan untuk teknisi (bahasa Inggris): { $detail }
