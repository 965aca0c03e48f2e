print("cable: commands arrive with the foundation issue")
