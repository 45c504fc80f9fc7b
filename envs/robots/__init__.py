"""Robot arms: real URDFs, user URDFs and procedurally generated arms."""
