# The unlock page.

unlock-title = Unlock the kit
unlock-intro = Enter the kit passphrase. The visit data on this kit is encrypted and can only be read once it is unlocked.
unlock-passphrase = Kit passphrase
action-unlock = Unlock
unlock-training-passphrase = This training kit's passphrase: { $passphrase }
unlock-lock-rule = The kit locks itself after { $minutes } minutes without activity. Press "Lock" when you leave the laptop.
unlock-auto-locked = The kit locked itself after { $minutes } minutes without activity.
unlock-empty = The passphrase is empty. Type the kit passphrase, then press "Unlock".
unlock-wrong = Wrong passphrase. Check upper and lower case, then try again.
unlock-failed = The kit could not be unlocked because of a problem with the kit. Details for a technician:
