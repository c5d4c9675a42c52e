from wadoctor.cli import main

main()
