print("LoopbackPairing: arrives with the end-to-end issue")
