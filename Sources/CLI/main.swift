import Runner

print("ward")
